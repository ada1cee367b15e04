//! What calls do: known blocking calls (for async code), calls known to do no I/O (for the
//! CPU-bound thread rule), and method names that suggest I/O on an unknown receiver.

/// Why a call by this qualified name blocks the event loop, when it is a known blocking call.
pub fn blocking(q: &str) -> Option<&'static str> {
    let reason = match q {
        "time.sleep" => "sleeps the whole event loop",
        "open" | "io.open" | "codecs.open" => "does file I/O",
        "input" => "waits for standard input",
        "urllib.request.urlopen" | "urllib.urlopen" | "urllib2.urlopen" => "does network I/O",
        "subprocess.run" | "subprocess.call" | "subprocess.check_call" | "subprocess.check_output"
        | "subprocess.getoutput" | "subprocess.getstatusoutput" => "waits for a child process",
        "os.system" | "os.popen" | "os.wait" | "os.waitpid" | "os.wait3" | "os.wait4" => "waits for a child process",
        "socket.create_connection" | "socket.getaddrinfo" | "socket.gethostbyname" | "socket.gethostbyaddr"
        | "socket.getfqdn" => "does network I/O",
        "sqlite3.connect" | "psycopg2.connect" | "pymysql.connect" | "MySQLdb.connect" => "opens a blocking database connection",
        "shutil.copy" | "shutil.copyfile" | "shutil.copy2" | "shutil.copytree" | "shutil.rmtree" | "shutil.move" => "does file I/O",
        "pathlib.Path.read_text" | "pathlib.Path.read_bytes" | "pathlib.Path.write_text" | "pathlib.Path.write_bytes" => "does file I/O",
        _ => {
            let (module, func) = q.rsplit_once('.')?;
            match module {
                "requests" | "httpx" if HTTP_VERBS.contains(&func) => "does network I/O",
                "requests.api" if HTTP_VERBS.contains(&func) => "does network I/O",
                "urllib3" if func == "request" => "does network I/O",
                "urllib3.PoolManager" if func == "request" => "does network I/O",
                _ => return None,
            }
        }
    };
    Some(reason)
}

const HTTP_VERBS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request", "stream"];

/// Whether a call by this qualified name is known to do no I/O (pure computation).
pub fn is_pure(q: &str) -> bool {
    if let Some((module, _)) = q.split_once('.') {
        return matches!(
            module,
            "math" | "cmath" | "hashlib" | "statistics" | "itertools" | "functools" | "operator" | "bisect" | "heapq"
                | "random" | "decimal" | "fractions" | "zlib" | "struct" | "binascii" | "base64" | "numpy" | "copy"
                | "collections" | "string" | "re" | "json" | "dataclasses" | "typing"
        ) || q == "time.perf_counter"
            || q == "time.time";
    }
    crate::semantic::BUILTINS.contains(&q) && !matches!(q, "open" | "input" | "print")
}

/// Whether a method of this name on an unknown receiver suggests I/O or waiting.
pub fn is_io_method(name: &str) -> bool {
    matches!(
        name,
        "read" | "readline" | "readlines" | "write" | "writelines" | "flush" | "send" | "sendall" | "recv"
            | "recv_into" | "recvfrom" | "accept" | "connect" | "execute" | "executemany" | "fetchone" | "fetchall"
            | "fetchmany" | "commit" | "urlopen" | "request" | "get_json" | "sleep" | "wait" | "acquire"
            | "result" | "communicate" | "read_text" | "read_bytes" | "write_text" | "write_bytes" | "iterdir"
            | "glob" | "open" | "download" | "upload"
    )
}
