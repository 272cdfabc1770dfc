-- tapio-collector -c examples/otel/tapio.lua: alerts and important events
-- as OTLP logs to the Collector of otel-collector.yaml. Delivery is at least
-- once: while the Collector is down, batches wait in memory and then in
-- delivery.spool_dir, and are sent in order when it is back.
return {
  otlp = { address = "127.0.0.1:4317" },
  output = { format = "none" },
  delivery = { spool_dir = "/var/lib/tapio/spool", spool_size = "1G" },
}
