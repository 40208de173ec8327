# The request loop of the benchmarks' PyTorch children (bench/peers/torch_peer.py,
# bench/networks/torch_runner.py; bench/torch_child.js is the other end): one JSON
# request per line on stdin, one JSON answer per line on stdout, {"cmd": "exit"} ends.
import json
import sys


def serve(handlers):
    """handlers: cmd -> function(request) -> dict; answers carry ok: true, or ok: false and the error."""
    for line in sys.stdin:
        m = json.loads(line)
        if m["cmd"] == "exit":
            return
        try:
            out = handlers[m["cmd"]](m)
            out["ok"] = True
        except Exception as e:  # reported to the parent, which records it as an error
            out = {"ok": False, "error": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
