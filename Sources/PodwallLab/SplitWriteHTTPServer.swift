extension Lab {
    /// A real HTTP/1.0 server that writes the headers and the body in two
    /// writes (TCP_NODELAY: two segments), as Python's http.server does; the
    /// body alone looks like no protocol's first bytes (`<!DOCTYPE HTML>`).
    /// Like http.server, it answers an HTTP/2 preface with a bare error page.
    public func spawnSplitWriteHTTPServer(in pod: Pod, port: Int = 80) throws {
        try spawnInPod(pod, ["python3", "-c", Self.splitWriteHTTPServer(address: pod.ipv4, port: port)])
    }

    static func splitWriteHTTPServer(address: String, port: Int) -> String {
        """
        import http.server, socket
        BODY = b"<!DOCTYPE HTML>\\n<html><head><title>podwall eval</title></head><body>" + b"ok " * 200 + b"</body></html>\\n"
        class Handler(http.server.BaseHTTPRequestHandler):
            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.flush()
                self.wfile.write(BODY)
            def log_message(self, *args):
                pass
        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True
        Server(("\(address)", \(port)), Handler).serve_forever()
        """
    }
}
