"""paramiko against fakessh: exec_command and invoke_shell.
Usage: paramiko_client.py PORT KEY"""
import sys
import time

import paramiko

port, key = int(sys.argv[1]), sys.argv[2]
client = paramiko.SSHClient()
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
client.connect("127.0.0.1", port=port, username="root", key_filename=key,
               look_for_keys=False, allow_agent=False, timeout=10)

stdin, stdout, stderr = client.exec_command('echo "$UI_HOME"; echo oops >&2; exit 7')
assert stdout.read() == b"/workspace/ComfyUI\n"
assert stderr.read() == b"oops\n"
assert stdout.channel.recv_exit_status() == 7

shell = client.invoke_shell(width=120, height=40)
buf = b""
deadline = time.time() + 10
while b"# " not in buf and time.time() < deadline:
    buf += shell.recv(65536)
shell.send("echo from-shell $((6*7))\n")
buf = b""
while b"from-shell 42\r\n" not in buf and time.time() < deadline:
    buf += shell.recv(65536)
assert b"from-shell 42\r\n" in buf, buf
shell.send("exit\n")
while not shell.exit_status_ready() and time.time() < deadline:
    time.sleep(0.05)
assert shell.recv_exit_status() == 0
client.close()
print("paramiko ok")
