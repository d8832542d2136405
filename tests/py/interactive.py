"""Drives `ssh -tt` through a real pty (pexpect): prompt, a command, line
editing, Ctrl-C, Ctrl-D and exit. Usage: interactive.py PORT KEY KNOWN_HOSTS"""
import sys
import time

import pexpect

port, key, known_hosts = sys.argv[1:4]


def login():
    child = pexpect.spawn(
        "ssh",
        ["-tt", "-p", port, "-i", key, "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={known_hosts}", "-o", "IdentitiesOnly=yes",
         "-o", "LogLevel=ERROR", "root@127.0.0.1"],
        timeout=15, encoding="utf-8", dimensions=(40, 132))
    child.expect_exact("Welcome to your vast.ai container!")
    child.expect_exact("root@C.4242424:~# ")
    return child


child = login()
child.sendline('cd $UI_HOME && echo "hi there"')
child.expect_exact("hi there\r\n")
child.expect_exact("root@C.4242424:/workspace/ComfyUI# ")

child.send("echo abX\x7fc\r")  # backspace removes the X
child.expect_exact("abc\r\n")
child.expect_exact("# ")

child.sendline('echo "multi')
child.expect_exact("> ")  # continuation prompt
child.sendline('line"')
child.expect_exact("multi\r\nline\r\n")
child.expect_exact("# ")

child.sendline("sleep 30")
time.sleep(0.5)
child.sendcontrol("c")
child.expect_exact("^C")
child.expect_exact("# ")
child.sendline("echo status=$?")
child.expect_exact("status=130")
child.expect_exact("# ")

child.sendline("exit 3")
child.expect(pexpect.EOF)
child.close()
assert child.exitstatus == 3, child.exitstatus

child = login()
child.sendcontrol("d")
child.expect_exact("logout")
child.expect(pexpect.EOF)
child.close()
assert child.exitstatus == 0, child.exitstatus
print("interactive ok")
