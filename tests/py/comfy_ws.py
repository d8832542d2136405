"""A ComfyUI client the way people write them (websocket-client + urllib),
through an `ssh -L` tunnel: open /ws with a clientId, queue the workflow
with that client_id, read the messages until the prompt is done, then the
history and the image. Usage: comfy_ws.py LOCAL_PORT WORKFLOW_JSON"""
import json
import sys
import urllib.request

import websocket

port, workflow_path = sys.argv[1:3]
base = f"http://127.0.0.1:{port}"
with open(workflow_path) as f:
    workflow = json.load(f)

ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws?clientId=tester", timeout=15)
hello = json.loads(ws.recv())
assert hello["type"] == "status" and hello["data"]["sid"] == "tester", hello

req = urllib.request.Request(
    f"{base}/prompt", data=json.dumps({"prompt": workflow, "client_id": "tester"}).encode(),
    headers={"Content-Type": "application/json"})
queued = json.load(urllib.request.urlopen(req, timeout=15))
prompt_id = queued["prompt_id"]

kinds, steps, images = [], [], []
while True:
    msg = json.loads(ws.recv())
    kinds.append(msg["type"])
    data = msg["data"]
    if msg["type"] == "progress":
        steps.append((data["value"], data["max"]))
    if msg["type"] == "executed":
        images += data["output"]["images"]
    if msg["type"] == "executing" and data["node"] is None and data["prompt_id"] == prompt_id:
        break
ws.close()

assert "execution_start" in kinds and "execution_cached" in kinds, kinds
assert kinds.index("execution_success") < len(kinds) - 1, kinds
assert steps == [(i, 12) for i in range(1, 13)], steps
assert images and images[0]["type"] == "output", images

history = json.load(urllib.request.urlopen(f"{base}/history/{prompt_id}", timeout=15))
entry = history[prompt_id]
assert entry["status"]["status_str"] == "success", entry["status"]
assert entry["outputs"]["9"]["images"] == images, entry["outputs"]
img = images[0]
png = urllib.request.urlopen(
    f"{base}/view?filename={img['filename']}&subfolder={img['subfolder']}&type={img['type']}", timeout=15).read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", png[:8]
print("comfy ws ok", prompt_id, img["filename"], len(png))
