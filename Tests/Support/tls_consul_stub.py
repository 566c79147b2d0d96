"""An HTTPS stub of one Consul KV answer that requires a client certificate.

Usage: tls_consul_stub.py CERT KEY CA. Prints its port, then serves until killed:
GET /v1/kv/tls answers one KV pair; a client without a certificate signed by CA is refused.
"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'[{"LockIndex":0,"Key":"tls","Flags":0,"Value":"c2VjdXJl","CreateIndex":5,"ModifyIndex":5}]'
        self.send_response(200 if self.path.startswith("/v1/kv/tls") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Consul-Index", "5")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


cert, key, ca = sys.argv[1:4]
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.load_verify_locations(ca)
context.verify_mode = ssl.CERT_REQUIRED
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
