"""Races a symlink swap against requests through it, over SFTP with paramiko.

Usage: sftp_race.py PORT KEY OUTSIDE ITERATIONS NONCE

One connection's SFTP channel swaps /tmp/race/d between a directory, a link
to `/` and a link to OUTSIDE (a host directory outside the instance's root)
until the other is done. The other connection's SFTP channel makes
ITERATIONS requests through d/, one per iteration, in turn: read, create,
overwrite, chmod, rename, remove, mkdir, symlink and list. Prints one JSON
object with what the reads returned and what the listings showed; the
caller judges.
"""
import json
import sys
import threading
import time

import paramiko

port, key, outside = int(sys.argv[1]), sys.argv[2], sys.argv[3]
iterations, nonce = int(sys.argv[4]), sys.argv[5]
D = "/tmp/race/d"


def connect():
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=port, username="root", key_filename=key,
                   look_for_keys=False, allow_agent=False, timeout=10)
    return client


def attempt(op, *args):
    """Runs one SFTP request; a refused one (IOError) returns None."""
    try:
        return op(*args)
    except IOError:
        return None


swapper_client, reader_client = connect(), connect()
swapper, reader = swapper_client.open_sftp(), reader_client.open_sftp()

done = threading.Event()
failures = []
stats = {"swaps": 0, "reads": {}, "ok_reads": 0, "failed_reads": 0,
         "ok_writes": 0, "escaped_names": [], "iterations": 0}


def swap():
    try:
        while not done.is_set():
            target = "/" if stats["swaps"] % 2 == 0 else outside
            attempt(swapper.mkdir, D)
            attempt(swapper.rmdir, D)
            attempt(swapper.symlink, target, D)
            attempt(swapper.remove, D)
            stats["swaps"] += 1
    except Exception as e:  # a dropped connection, not a refused request
        failures.append("swapper: %r" % (e,))


def read_through(path):
    try:
        with reader.open(path, "rb") as f:
            data = f.read(4096)
    except IOError:
        stats["failed_reads"] += 1
        return
    stats["ok_reads"] += 1
    text = data.decode("latin-1")
    stats["reads"][text] = stats["reads"].get(text, 0) + 1


def write_through(path):
    try:
        with reader.open(path, "wb") as f:
            f.write(b"x\n")
        stats["ok_writes"] += 1
    except IOError:
        pass


def listing():
    names = attempt(reader.listdir, D) or []
    # `/` inside the root never holds the planted sentinel.
    stats["escaped_names"].extend(n for n in names if "sentinel-" in n)


# Whatever a request creates goes under d/tmp: a plain directory `d` stays
# empty, so the swapper's rmdir always succeeds.
sentinel, victim = D + "/sentinel-" + nonce, D + "/tmp/victim-" + nonce
OPS = [
    lambda i: read_through(D + "/etc/hostname"),
    lambda i: read_through(sentinel),
    lambda i: write_through("%s/tmp/race_%s_%d" % (D, nonce, i)),
    lambda i: write_through(victim),
    lambda i: attempt(reader.chmod, sentinel, 0o600),
    lambda i: attempt(reader.rename, victim, D + "/tmp/moved-" + nonce),
    lambda i: attempt(reader.remove, victim),
    lambda i: attempt(reader.mkdir, "%s/tmp/raced_%s_%d" % (D, nonce, i)),
    lambda i: attempt(reader.symlink, "/etc", "%s/tmp/link_%s_%d" % (D, nonce, i)),
    lambda i: listing(),
]


def read():
    try:
        for i in range(iterations):
            OPS[i % len(OPS)](i)
            stats["iterations"] = i + 1
    except Exception as e:
        failures.append("reader: %r" % (e,))
    finally:
        done.set()


started = time.time()
threads = [threading.Thread(target=swap), threading.Thread(target=read)]
for t in threads:
    t.start()
for t in threads:
    t.join()
stats["elapsed"] = round(time.time() - started, 2)
stats["failures"] = failures
print(json.dumps(stats))
swapper_client.close()
reader_client.close()
sys.exit(1 if failures else 0)
