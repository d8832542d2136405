"""An interactive shell started by an exec request on a pty, as on a real
host: asyncssh opens `bash` (and `bash -l`) on a pty and types lines, each
run as it is typed; `exit 4` ends the channel with status 4. Then the real
OpenSSH client through a real pty (pexpect): `ssh -tt host 'sudo su -'`
and `ssh -tt host bash` (Ctrl-D says `exit`, not `logout`).
Usage: exec_shell.py PORT KEY KNOWN_HOSTS"""
import asyncio
import sys

import asyncssh
import pexpect

port, key, known_hosts = sys.argv[1:4]


async def typed(command, farewell):
    async with asyncssh.connect(
        "127.0.0.1", int(port), username="root", client_keys=[key],
        known_hosts=known_hosts,
    ) as conn:
        proc = await conn.create_process(
            command, term_type="xterm", term_size=(100, 30))
        seen = await asyncio.wait_for(proc.stdout.readuntil("# "), 10)
        assert seen.startswith("root@"), repr(seen)
        assert "Welcome" not in seen, repr(seen)  # no motd for exec
        proc.stdin.write("cd /tmp && echo here:$PWD\n")
        seen = await asyncio.wait_for(proc.stdout.readuntil("# "), 10)
        assert "here:/tmp\r\n" in seen, repr(seen)
        assert seen.endswith(":/tmp# "), repr(seen)  # the prompt follows cd
        proc.stdin.write("exit 4\n")
        done = await asyncio.wait_for(proc.wait(check=False), 10)
        assert done.exit_status == 4, done.exit_status
        assert done.stdout.endswith(farewell), repr(done.stdout)


asyncio.run(typed("bash", "exit\r\n"))
asyncio.run(typed("bash -l", "logout\r\n"))


def ssh(command):
    return pexpect.spawn(
        "ssh",
        ["-tt", "-p", port, "-i", key, "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={known_hosts}", "-o", "IdentitiesOnly=yes",
         "-o", "LogLevel=ERROR", "root@127.0.0.1", command],
        timeout=15, encoding="utf-8", dimensions=(40, 132))


child = ssh("sudo su -")
child.expect_exact("root@C.4242424:~# ")
child.sendline("whoami; echo home=$HOME")
child.expect_exact("root\r\nhome=/root\r\n")
child.expect_exact("# ")
child.sendline("exit")
child.expect_exact("logout")
child.expect(pexpect.EOF)
child.close()
assert child.exitstatus == 0, child.exitstatus

child = ssh("bash")
child.expect_exact("# ")
child.sendline("false")
child.expect_exact("# ")
child.sendcontrol("d")
child.expect_exact("exit")
child.expect(pexpect.EOF)
child.close()
assert child.exitstatus == 1, child.exitstatus  # the last command's status
print("exec shell ok")
