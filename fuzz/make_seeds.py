#!/usr/bin/env python3
"""Writes the hand-made seed corpora under fuzz/corpus/<target>/ (run from
anywhere; safe to run again). The seeds come from the tests (tests/it,
src/**/tests), the README's fault specs, tests/fixtures/catalog.json and the
golden captures of the real tools (tests/fixtures/captures). Inputs the
fuzzer found later are merged in by `scripts/fuzz merge TARGET`; this script
never removes them.
"""

import hashlib
import json
import os
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CAPTURES = os.path.join(ROOT, "tests", "fixtures", "captures")
# Long captures are cut: the parsers' state machines show up in a few KB.
MAX_CAPTURE = 6 * 1024


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def key(data):
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha1(data).hexdigest()[:12]


SHELL = [
    "echo hello",
    'echo "SSH connection successful" && whoami && pwd',
    "echo to-out; echo to-err >&2; ls /nonexistent",
    "ls $UI_HOME/models; ls /venv/main/bin; cat /etc/environment",
    "nvidia-smi --query-gpu=name --format=csv,noheader",
    "nvidia-smi",
    "x='a  b'; echo $x \"$x\" 'lit $x' \\$x ${#x} ${x:-dflt} $((2+3*4)) $(echo sub)",
    "echo ${x:=def} ${x#d} ${x%f} ${x/e/E} ${x^^} ${x,,} ${!x} ${x:1:2}",
    "cd /tmp\nif true; then\n  echo in-if\nfi\npwd\nexit 5\necho never\n",
    "for i in 1 2 3; do echo $i; done; i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i",
    "case $HOME in /root) echo root;; *) echo other;; esac",
    "f() { echo \"args: $# $1 $@\"; return 3; }; f a b; echo $?",
    "(cd /tmp && pwd); pwd; { echo a; echo b; } | sort -r | head -1",
    "cat <<EOF\nhome=$HOME\n$(echo x)\nEOF\ncat <<'E'\n$HOME\nE",
    "mkdir -p /tmp/d/e && echo weights > /tmp/d/e/w.bin && ls -la /tmp/d/e && du -sh /tmp/d && rm -rf /tmp/d",
    "touch /tmp/a /tmp/b; ls /tmp/*; cp /tmp/a /tmp/c; mv /tmp/c /tmp/e; ln -s /tmp/e /tmp/l; readlink -f /tmp/l",
    "find / -maxdepth 2 -type d -name 'm*' | sort | head -5",
    "seq 1 20 | grep -E '^1[0-9]?$' | wc -l",
    "printf '%s|%5d|%-5s|%05.2f|%x|%o|%e|%q\\n' a 42 b 3.14159 255 8 1e10 'a b'",
    "printf '%*d' -9223372036854775808 1",
    "printf '%.*d' 9223372036854775807 1",
    "printf '%.65536f' 1",
    "printf '%b' 'a\\tb\\x41\\u00e9\\c'; printf -v v '%03d' 7; echo $v",
    "echo -e 'a\\tb\\n\\x41'; echo -n no-newline; echo -E '\\t'",
    "test -e /etc/environment && echo yes; [ -d /tmp ] && [ 1 -lt 2 ] || echo no; [[ $HOME == /r* ]] && echo glob",
    "date +%Y-%m-%dT%H:%M:%S; date -u; date -d @0 '+%s %j %A'",
    "uname -a; hostname; id; whoami; env | sort | head -3; df -h /; du -s /root",
    "python -c 'print(1)'; python3 --version; pip list; pip install torch",
    "sleep 0; echo late",
    "sleep 5 & sleep 5 & sleep 5 & echo done; jobs; wait",
    "x=a; while :; do x=$x$x; done; echo never",
    "y=$(seq 1 100000000); echo never",
    "echo $(({}1))".replace("{}", "(" * 40),
    "echo 2147483648>&1; echo after",
    "cat | wc -l",
    "echo \"unterminated",
    "echo a ;; echo b",
    "f(){ f | f & }; f; sleep 30",
    "a=(1 2 3); echo ${a[1]} ${#a[@]} ${a[@]}; declare -A m; m[k]=v; echo ${m[k]}",
    "set -e; false; echo never",
    "set -u; echo $undefined_var",
    "export A=1; env | grep ^A=; unset A; echo ${A-unset}",
    "source /etc/environment 2>/dev/null || true; echo $PATH",
    "bash -c 'echo inner $0 $1' zero one; eval 'echo evaled'",
    "exec 3>/tmp/fd3; echo x >&3; cat /tmp/fd3; echo y 2>&1 1>/dev/null",
    "echo a > /tmp/f; echo b >> /tmp/f; sort < /tmp/f | uniq -c; tail -n 1 /tmp/f; head -c 1 /tmp/f",
    "grep -rn PATH /etc/environment; grep -c x /nonexistent; grep -v -i -o 'a.' /etc/hostname",
    "ls -l --color=never /workspace/ComfyUI/models/; ls -1 -R /workspace | head",
    "cat /root/planted/secret.txt; cat /../../../../../etc/passwd; cd ../../../../..; pwd",
    "ln -s ../../../../../../../.. /tmp/up; cat /tmp/up/etc/passwd; echo x > /tmp/up/escaped.txt; ls /tmp/up/",
    "ln -s /../canary /tmp/c; cat /tmp/c; echo x >> /tmp/c; rm -rf /tmp/c/",
    "wget -q -O /tmp/m.safetensors https://huggingface.co/o/r/resolve/main/m.safetensors; echo after",
    'wget -P "$UI_HOME"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors',
    "wget --progress=bar:force -c -O /tmp/x.bin 'http://localhost:8765/file.bin?size=3000000&rate=1000000'",
    "wget -qnc --content-disposition --show-progress -e dotbytes=4M -P /tmp https://civitai.com/api/download/models/124456",
    "wget --progress=dot:mega --tries=3 --read-timeout=2 https://example.com/a.bin; wget -nv -O - https://x.invalid/",
    "civitdl 123456 /workspace/ComfyUI/models/loras",
    'civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" "$UI_HOME"/models/Lora',
    "civitdl --help; civitdl --version; civitdl; civitdl 999999999 /tmp",
    "export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && civitdl 123456 /tmp/l -k KEY",
    "#!fault wget:http=404:times=1\nwget https://example.com/a.bin; wget -q https://example.com/a.bin; echo $?",
    "#!fault civitdl:drop=40\ncivitdl 123456 /tmp/x",
    "#!fault wget:stall=40/3000:p=0.5\n#!fault *:disk-full=10\nwget -O /tmp/a https://huggingface.co/a/b/resolve/main/c.bin",
    "#!fault *:exit=3\nls; echo $?",
    "#!fault *:disconnect=50\nwget https://example.com/x.bin",
    "#!fault wget:slow=1000\n#!fault wget:dns\nwget https://example.com/y.bin",
    "timeout 1 sleep 10; nohup echo x; command -v wget; type ls; which civitdl wget || echo missing",
    "read a b <<< 'one two'; echo $b $a; read -r line < /etc/hostname; echo $line",
    "shopt -s nullglob; echo /nope/*; set -- a b c; shift; echo $@; local x=1",
    "trap 'echo bye' EXIT; kill -0 $$; echo $$ $! $- $0",
    "tee /tmp/t1 /tmp/t2 <<< hi; cat /tmp/t1 /tmp/t2 | sort -u",
    "basename /a/b/c.txt .txt; dirname /a/b/c; realpath ../..; cd ~ && pwd",
    "echo ~ ~root ~/x *.md /work*/Comfy?I [a-z]* {a,b}{1..3} {10..1..3}",
    "((x=5, x<<=2)); echo $x $((x ** 3)) $((7 / 0)) $((1 ? 2 : 3)) $(( -9223372036854775808 / -1 ))",
    "until false; do break; done; select x in a; do break; done; coproc true",
]

# The README's and the tests' short specs.
FLAGS = [
    "civitdl:http=404:times=1",
    "wget:stall=40/3000:p=0.2",
    "*:rotate-host-key",
    "wget:drop=50:every=2:after=1:name=half",
    "civitdl:exit=3:cmd=^civitdl 123:user=root:instance=127_0_0_1:expect=1",
    "wget:slow=100000:host=huggingface\\.co:path=/x/.*",
    "*:dns\n*:refused\n*:disk-full=30\n*:disconnect=20\n*:hang\n*:delay=100",
    "*:refuse-auth\n*:handshake-delay=500\n*:reset\n*:max-startups=2",
    "wget:explode",
    "wget:http=999",
    "wget:drop=101",
    "wget:http=404:p=1.5",
    "wget:http=404:every=0",
]

TOML = [
    '[[rule]]\nname = "first civitdl fails"\nmatch = { tool = "civitdl" }\n'
    'action = { type = "http", status = 404 }\ntimes = 1\n\n'
    '[[rule]]\naction = { type = "stall_at", percent = 30, stall_ms = 2000 }\nprobability = 0.25\n',
    '[[rule]]\naction = { type = "http", status = 404 }\n\n[[rule]]\naction = { type = "explode" }\n',
    '[[rule]]\naction = { type = "drop_at", percent = 101 }\n',
    '[[rule]]\nmatch = { command = "^wget .*", host = "x", path = "/a", user = "root", instance = "i" }\n'
    'action = { type = "exit_code", code = 3 }\nevery = 2\nafter = 1\nexpect = 2\n',
    '[[rule]]\naction = { type = "disconnect_at", percent = 50 }\n[[rule]]\naction = { type = "hang" }\n'
    '[[rule]]\naction = { type = "rotate_host_key" }\n',
]

JSON = [
    '[\n {"action": {"type": "drop_at", "percent": 500}}\n]',
    '{"rules": [{"name": "n", "match": {"tool": "wget"}, "action": {"type": "http", "status": 503},'
    ' "times": 2, "probability": 0.5}]}',
    '[{"action": {"type": "slow", "bytes_per_s": 1000}}, {"action": {"type": "dns_failure"}},'
    ' {"action": {"type": "disk_full", "percent": 10}}]',
    '[{"action": {"type": "delay_handshake", "delay_ms": 10}}, {"action": {"type": "delay_output", "delay_ms": 5}}, {"action": {"type": "max_startups", "limit": 1}}]',
]

LIMITS = [
    "[session]\nmax_nesting = 64\nmax_processes = 8\nmax_printf_field = 100\n"
    '[connection]\nlogin_grace = "30s"\nidle_timeout = "5m"\nmax_connections = 10\n',
    '[connection]\nlogin_grace = "0s"\n',
    "[session]\nmax_word_bytes = -1\n",
]

ASSIGN = [
    "max_processes=64\nconnection.login_grace=30s\nsession.max_nesting=1\nidle_timeout=1h",
    "nope=1\nmax_processes=x\n=\nsession.=1",
]

PRINTF = [
    b"%s|%5d|%-5s|%05.2f|%x|%o|%e|%q\\n\0a\x0042\0b\x003.14159\x00255\x008\x001e10\0a b",
    b"%*d\0-9223372036854775808\x001",
    b"%.*d\x009223372036854775807\x001",
    b"%.65536f\x001",
    b"%0999999999999d\x001",
    b"%b\0a\\tb\\x41\\u00e9\\U0001F600\\0101\\c",
    b"%c%c%c\0abc\0\xc3\xa9\0",
    b"%d %i %u\0'a\0\"b\x000x1F\0-0\0077\x009999999999999999999999",
    b"%a %A %g %G %E %F\x001.5\0-inf\0nan\x001e-320\x001e308\x000x1p-1074",
    b"%Q %q\0$'x'\0a\nb",
    b"%(%Y-%m-%d)T %(%s)T\0-1\x001700000000",
    b"%5.3s|%-*.*s|%%|%n\0abcdef\x008\x002\0xyz",
    b"printf\0--\0%s\\n\0a\0b\0c",
    b"echo\0-e\0a\\tb\\n\\x41\\0101\\c tail",
    b"echo\0-neE\0x\0y",
    b"seq\x001\x0010",
    b"seq\0-f\0%05.1f\0-s\0,\0-w\x000.5\x000.25\x002",
    b"seq\0-1e308\x001e308\x001e308",
    b"date\0+%Y-%m-%dT%H:%M:%S%z %j %U %A %B %e %-d %_H %10N %%",
    b"date\0-u\0-d\0@1700000000\0+%s",
    b"date\0-d\0next monday 3pm",
    b"test\x001\0-lt\x002\0-a\0!\0-z\0x\0-o\0(\0a\0=\0b\0)",
    b"[\0-e\0/etc/environment\0]",
    b"[\x009223372036854775808\0-gt\x001\0]",
    b"sort\0-k\x002,3nr\0-t\0,\0-u\x01b,2,x\na,10,y\nc,1,z\n",
    b"sort\0-h\0-r\x011K\n2M\n512\n1G\n",
    b"uniq\0-c\0-d\x01a\na\nb\n",
    b"head\0-c\0-5\x01abcdefghij",
    b"head\0-n\0+2\x01a\nb\nc\n",
    b"tail\0-c\0+3\x01abcdefgh",
    b"tail\0-n\x0099999999999999999999\x01a\n",
    b"wc\0-lwcm\x01hello world\n\xc3\xa9\n",
    b"grep\0-E\0-o\0-n\0(a|b)+[0-9]{2,}\x01xab12 ba345\nno\n",
    b"grep\0-c\0-v\0-i\0-w\0-F\0A.\x01a.\nA.b\nx\n",
    b"grep\0-P\0(?<=a)b\x01ab\n",
    b"basename\0/a/b/c.txt\0.txt",
    b"dirname\0a/b/\0/\0//x",
    b"nvidia-smi\0--query-gpu=name,memory.total,utilization.gpu\0--format=csv,noheader,nounits",
    b"df\0-h\0-T\0/",
    b"du\0-sh\0--max-depth=1\0/workspace",
    b"env\0-i\0A=1\0env",
    b"sleep\x000.000001",
]

API = [
    b"GET /downloads/status",
    b"GET /downloads/status?instance_id=127_0_0_1",
    b"POST /downloads/queue\nContent-Type: application/json\n\n"
    b'{"ssh_connection": "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080", '
    b'"commands": ["wget https://x/a.safetensors"], "display_name": "A"}'
    b"\0GET /downloads/status\0POST /downloads/retry\nContent-Type: application/json\n\n"
    b'{"job_id": "x"}\0DELETE /downloads/job/x',
    b"POST /downloads/queue\nContent-Type: application/json\n\n"
    b'{"ssh_connection": "ssh -p 44686 root@109.231.106.68", "resources": [{"filepath": "loras/wan.md"}, '
    b'"empty.md", "../outside.md"], "ui_home": "/workspace/ComfyUI"}',
    b"POST /downloads/queue\nContent-Type: application/json\n\n{\"ssh_connection\": 1}",
    b"POST /downloads/queue\nContent-Type: text/plain\n\n{}",
    b"POST /downloads/queue\nContent-Type: application/json\nOrigin: http://evil.example\nHost: 127.0.0.1:8080\n\n{}",
    b"POST /downloads/queue\nContent-Type: application/json\nSec-Fetch-Site: cross-site\n\n{}",
    b"GET /downloads/status\nHost: evil.example",
    b"GET /downloads/status\nHost: [::1]:8080",
    b"GET /downloads/events",
    b"GET /\0GET /dashboard.js\0GET /dashboard.css\0GET /nope\0PUT /downloads/status",
    b"GET /__admin/health\0GET /__admin/instances",
    b"POST /__admin/faults\nContent-Type: application/json\n\n{\"spec\": \"wget:http=404:times=1\"}"
    b"\0GET /__admin/faults\0DELETE /__admin/faults/f1\0DELETE /__admin/faults",
    b"POST /__admin/faults?instance=127_0_0_1\nContent-Type: application/json\n\n"
    b'{"name": "n", "match": {"tool": "wget"}, "action": {"type": "stall_at", "percent": 30}, "times": 1}',
    b"GET /__admin/journal?regex=wget&tool=wget&instance=127_0_0_1&since=1\0DELETE /__admin/journal",
    b"GET /__admin/journal?regex=(\0GET /__admin/journal?since=x",
    b"POST /__admin/reset\nContent-Type: application/json\n\n{}",
    b"GET /__admin/faults\nAuthorization: Bearer x",
    b"GET /__admin/journal\nX-Fuzz-Peer: 203.0.113.7:50000\0GET /downloads/status\nX-Fuzz-Peer: [::ffff:127.0.0.1]:1",
    b"!GET /__admin/faults\nAuthorization: Bearer s3cret\nHost: evil.example\0"
    b"POST /__admin/faults\nAuthorization: Bearer s3cret\nContent-Type: application/json\n\n"
    b'{"spec": "*:hang"}\0DELETE /__admin/faults\nAuthorization: Bearer wrong',
    b"!POST /__admin/reset\nX-Fuzz-Peer: 203.0.113.7:1\nAuthorization: Bearer  s3cret \nContent-Type: application/json\n\n{}",
]


def main():
    for s in SHELL:
        put("shell", key(s), s)

    names = sorted(os.listdir(CAPTURES)) if os.path.isdir(CAPTURES) else []
    tools = {"civ": 0, "wget": 1, "curl": 2, "hf": 3, "hf2": 3, "tqdm": 3, "git": 4, "aria": 5}
    for n in names:
        base, _, ext = n.rpartition(".")
        if ext not in ("out", "err", "tty"):
            continue
        tool = tools.get(base.split("_")[0])
        if tool is None:
            continue
        with open(os.path.join(CAPTURES, n), "rb") as f:
            body = f.read()[:MAX_CAPTURE]
        if not body:
            continue
        put("progress", n, bytes([tool, len(body) % 251]) + body)
        # The same output for the auto-detecting parser.
        if ext != "out":
            put("progress", "auto-" + n, bytes([6, 7]) + body)

    for s in FLAGS:
        put("faults", "flag-" + key(s), "f" + s)
    for s in TOML:
        put("faults", "toml-" + key(s), "t" + s)
    for s in JSON:
        put("faults", "json-" + key(s), "j" + s)
    for s in LIMITS:
        put("faults", "limits-" + key(s), "l" + s)
    for s in ASSIGN:
        put("faults", "limit-" + key(s), "=" + s)

    for s in PRINTF:
        put("printf", key(s), s)

    catalog_path = os.path.join(ROOT, "tests", "fixtures", "catalog.json")
    with open(catalog_path) as f:
        catalog = json.load(f)
    urls = list(catalog.get("files", {}))
    small = {
        "civitai_api": "https://civitai.com",
        "hosts": {"localhost:1": {"refused": True}, "mirror.lan": {"ips": ["10.0.0.5"]},
                  "gone.lan": {"unresolvable": True}},
        "files": {
            "http://localhost:8765/x.bin": {"size": 3000000, "rate_bytes_per_s": 1000000},
            "http://mirror.lan/drop.bin": {"size": 5000, "fail_at": 2500, "fail": "drop", "fail_tries": 1},
            "http://mirror.lan/stall.bin": {"size": 5000, "fail_at": 100, "fail": "stall"},
            "http://mirror.lan/redirect": {"status": 302, "location": "http://localhost:8765/x.bin"},
            "http://mirror.lan/nolen": {"size": 1000, "send_length": False, "content_type": "text/plain",
                                        "filename": "n.txt"},
        },
        "models": {"123456": {"name": "Detail Tweaker LoRA", "version_id": 124456, "stem": "add_detail",
                              "size": 3000000, "images": 3, "ext": ".safetensors"},
                   "401": {"requires_auth": True, "download_status": 503}},
        "missing_models": [999999999],
    }
    scripts = [
        "wget -q http://localhost:8765/x.bin -O /tmp/x.bin\nwget http://mirror.lan/drop.bin\n"
        "wget -c http://mirror.lan/stall.bin\nwget http://mirror.lan/redirect\nwget --content-disposition http://mirror.lan/nolen",
        "civitdl 123456 /tmp/l\ncivitdl 401 /tmp/l\ncivitdl 999999999 /tmp\n124456\nhttps://civitai.com/api/download/models/124456",
        "wget http://localhost:1/\nwget http://gone.lan/a\nhttps://huggingface.co/a/b/resolve/main/c.safetensors",
    ]
    for i, s in enumerate(scripts):
        put("catalog", "small-%d" % i, json.dumps(small).encode() + b"\0" + s.encode())
    put("catalog", "fixture", json.dumps(catalog).encode() + b"\0" + ("wget -q '%s'\n" % urls[0]).encode()
        + b"civitdl 123456 /tmp/m\n")
    put("catalog", "empty", b"{}\0wget https://example.com/a.bin")

    for s in API:
        put("api_json", key(s), s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
