"""A webhook receiver on loopback for tests: records every POST body as one line of a file.

  webhook_receiver.py PORT_FILE BODIES_FILE [FAIL_FIRST]
Listens on 127.0.0.1 (a free port, written to PORT_FILE); answers 503 to the first FAIL_FIRST
requests (to exercise retries), 200 afterwards.
"""
import http.server
import sys

port_file, bodies_file = sys.argv[1], sys.argv[2]
fail_first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen += 1
        if seen <= fail_first:
            self.send_response(503)
            self.end_headers()
            return
        with open(bodies_file, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402

os.rename(port_file + ".tmp", port_file)
server.serve_forever()
