#!/bin/bash
# desc: looking for the defenders: ps | grep for EDR and audit agents, pgrep, systemctl status, ls of their directories, dpkg -l | grep, lsmod | grep
# mitre: T1518.001
# expect: security_software_discovery
source "$ATTACK_LIB"

ps aux | grep -iE 'falco|osquery|auditd|wazuh|crowdstrike|tapio' >/dev/null || true
pgrep -l sysdig >/dev/null || true
systemctl status auditd >/dev/null 2>&1 || true
ls -d /etc/falco /opt/CrowdStrike /var/ossec 2>/dev/null || true
dpkg -l | grep -iE 'clamav|aide|rkhunter' >/dev/null || true
lsmod 2>/dev/null | grep -i falco >/dev/null || true
