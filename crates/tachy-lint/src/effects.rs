//! What calls do: known blocking calls (for async code), calls known to do no I/O (for the
//! CPU-bound thread rule), and method names that suggest I/O on an unknown receiver.

/// Why a call by this qualified name blocks the event loop, when it is a known blocking call.
pub fn blocking(q: &str) -> Option<&'static str> {
    let reason = match q {
        "time.sleep" => "sleeps the thread",
        "open" | "io.open" | "io.open_code" | "codecs.open" => "does file I/O",
        "input" | "getpass.getpass" => "waits for standard input",
        "urllib.request.urlopen"
        | "urllib.request.urlretrieve"
        | "urllib.urlopen"
        | "urllib.urlretrieve"
        | "urllib2.urlopen" => "does network I/O",
        "subprocess.run"
        | "subprocess.call"
        | "subprocess.check_call"
        | "subprocess.check_output"
        | "subprocess.getoutput"
        | "subprocess.getstatusoutput" => "waits for a child process",
        "os.system" | "os.popen" | "os.wait" | "os.waitpid" | "os.wait3" | "os.wait4" | "os.waitid" => {
            "waits for a child process"
        }
        "socket.create_connection"
        | "socket.getaddrinfo"
        | "socket.gethostbyname"
        | "socket.gethostbyname_ex"
        | "socket.gethostbyaddr"
        | "socket.getfqdn"
        | "socket.getnameinfo" => "does network I/O",
        "sqlite3.connect" | "psycopg2.connect" | "pymysql.connect" | "MySQLdb.connect" => {
            "opens a blocking database connection"
        }
        "shutil.copy" | "shutil.copyfile" | "shutil.copy2" | "shutil.copytree" | "shutil.rmtree" | "shutil.move" => {
            "does file I/O"
        }
        "pathlib.Path.read_text"
        | "pathlib.Path.read_bytes"
        | "pathlib.Path.write_text"
        | "pathlib.Path.write_bytes" => "does file I/O",
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

/// Methods of a connected `socket.socket` that wait on the network.
pub const SOCKET_METHODS: &[&str] = &[
    "accept",
    "connect",
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "recvmsg",
    "send",
    "sendall",
    "sendto",
    "sendmsg",
    "sendfile",
    "makefile",
];

/// Whether a call by this qualified name is known to do no I/O (pure computation that holds
/// the GIL).
///
/// Libraries whose heavy calls release the GIL (`numpy`, `hashlib` and `zlib` on large inputs)
/// are deliberately left out: threads running them do run in parallel, so a function calling
/// them must not count as GIL-bound computation.
pub fn is_pure(q: &str) -> bool {
    if let Some((module, _)) = q.split_once('.') {
        return matches!(
            module,
            "math"
                | "cmath"
                | "statistics"
                | "itertools"
                | "functools"
                | "operator"
                | "bisect"
                | "heapq"
                | "random"
                | "decimal"
                | "fractions"
                | "struct"
                | "binascii"
                | "base64"
                | "copy"
                | "collections"
                | "string"
                | "re"
                | "json"
                | "dataclasses"
                | "typing"
        ) || q == "time.perf_counter"
            || q == "time.time";
    }
    crate::semantic::BUILTINS.contains(&q) && !matches!(q, "open" | "input" | "print")
}

/// Whether a method of this name on an unknown receiver suggests I/O or waiting (files,
/// sockets, HTTP sessions, databases, queues and thread synchronisation, logging), or work
/// that releases the GIL (`hasher.update`, `compressor.compress`), so that a function calling
/// it is not taken for pure GIL-bound computation.
pub fn is_io_method(name: &str) -> bool {
    matches!(
        name,
        "read"
            | "readline"
            | "readlines"
            | "readinto"
            | "write"
            | "writelines"
            | "flush"
            | "send"
            | "sendall"
            | "sendto"
            | "recv"
            | "recv_into"
            | "recvfrom"
            | "accept"
            | "connect"
            | "makefile"
            | "select"
            | "poll"
            | "execute"
            | "executemany"
            | "fetchone"
            | "fetchall"
            | "fetchmany"
            | "commit"
            | "urlopen"
            | "request"
            | "get"
            | "post"
            | "put"
            | "patch"
            | "delete"
            | "head"
            | "get_json"
            | "sleep"
            | "wait"
            | "wait_for"
            | "acquire"
            | "notify"
            | "notify_all"
            | "result"
            | "communicate"
            | "read_text"
            | "read_bytes"
            | "write_text"
            | "write_bytes"
            | "iterdir"
            | "glob"
            | "open"
            | "download"
            | "upload"
            | "emit"
            | "debug"
            | "info"
            | "warning"
            | "error"
            | "exception"
            | "critical"
            | "log"
            | "update"
            | "digest"
            | "hexdigest"
            | "compress"
            | "decompress"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert_eq!(blocking("requests.get"), Some("does network I/O"));
        assert_eq!(blocking("time.sleep"), Some("sleeps the thread"));
        assert_eq!(blocking("asyncio.sleep"), None);
        assert_eq!(blocking("requests.Session"), None);
        assert!(is_pure("math.sqrt") && is_pure("len") && !is_pure("print") && !is_pure("numpy.dot"));
        assert!(is_io_method("recv") && is_io_method("get") && !is_io_method("append"));
    }
}
