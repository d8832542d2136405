//! How a failed download ends: huggingface_hub 0.34 lets the exception
//! escape the CLI, so Python prints its traceback chain (as captured in
//! hf_404repo, hf_gated, hf_noentry); 2.x prints one red `Error:` line, a
//! hint and `HF_DEBUG`'s hint. Exit 1 either way.

/// Where the site-packages of the instance's venv are.
const SITE: &str = "/venv/main/lib/python3.11/site-packages";
/// The system Python's standard library.
const STDLIB: &str = "/usr/lib/python3.11";

/// The Hub's answer classes (`hf_raise_for_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HubClass {
    /// `RepositoryNotFoundError` (404 RepoNotFound, or 401 on an https resolve URL).
    RepoNotFound,
    /// `GatedRepoError` (401/403 GatedRepo).
    Gated,
    /// `EntryNotFoundError` (404 EntryNotFound).
    EntryNotFound,
    /// 403 without a Hub error code.
    Forbidden,
    /// Anything else: `HfHubHTTPError` with requests' text.
    Other,
}

/// A connection-level failure of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum NetCause {
    /// `socket.gaierror` -> `NameResolutionError`.
    Dns,
    /// `ConnectionRefusedError` -> `NewConnectionError`.
    Refused,
}

/// Why a download failed.
#[derive(Clone, Debug)]
pub(super) enum Failure {
    /// The Hub answered an HTTP error.
    Http {
        /// Status code.
        status: u16,
        /// The error class it maps to.
        class: HubClass,
        /// The URL requested.
        url: String,
        /// The server's `X-Error-Message`.
        server: Option<String>,
    },
    /// The request never got an answer.
    Network {
        /// DNS or refused.
        cause: NetCause,
        /// The URL requested.
        url: String,
    },
    /// Writing the `.incomplete` file failed (`[Errno 28]`).
    DiskFull,
    /// The body broke off (`ChunkedEncodingError`).
    Dropped,
    /// `HF_HUB_OFFLINE=1` (`local_files_only`): no request is made.
    Offline {
        /// `repo_id`, `repo_type`, `revision`, `filename` as the error lists them.
        what: String,
    },
    /// `snapshot_download`'s `repo_info` call failed (`Http` or `Network`).
    Api(Box<Failure>),
}

/// What the traceback passes through on the way out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Where {
    /// `huggingface-cli` rather than `hf`.
    pub cli: bool,
    /// Into `--local-dir` rather than the cache.
    pub local_dir: bool,
    /// Through `snapshot_download` (several files).
    pub snapshot: bool,
}

/// The repo's kind as 2.x names it (`Model`, `Dataset`, `Space`).
fn kind_title(kind: &str) -> &'static str {
    match kind {
        "dataset" => "Dataset",
        "space" => "Space",
        _ => "Model",
    }
}

struct Tb(String);

impl Tb {
    fn new() -> Self {
        Tb(String::new())
    }
    fn start(&mut self) {
        self.0.push_str("Traceback (most recent call last):\n");
    }
    /// One frame; `caret` is the part of `code` Python 3.11 underlines ("" for none).
    fn frame(&mut self, file: &str, line: u32, func: &str, code: &str, caret: &str) {
        let path = if file.starts_with('/') {
            file.to_string()
        } else if let Some(std) = file.strip_prefix("std:") {
            format!("{STDLIB}/{std}")
        } else {
            format!("{SITE}/{file}")
        };
        self.0.push_str(&format!(
            "  File \"{path}\", line {line}, in {func}\n    {code}\n"
        ));
        if !caret.is_empty() {
            if let Some(at) = code.find(caret) {
                self.0.push_str(&format!(
                    "    {}{}\n",
                    " ".repeat(code[..at].chars().count()),
                    "^".repeat(caret.chars().count())
                ));
            }
        }
    }
    fn exc(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }
    fn cause(&mut self) {
        self.0
            .push_str("\nThe above exception was the direct cause of the following exception:\n\n");
    }
    fn during(&mut self) {
        self.0
            .push_str("\nDuring handling of the above exception, another exception occurred:\n\n");
    }

    /// From the console script down to `hf_hub_download` / `snapshot_download`.
    fn entry(&mut self, w: Where) {
        self.start();
        if w.cli {
            self.frame(
                "/venv/main/bin/huggingface-cli",
                8,
                "<module>",
                "sys.exit(main())",
                "main()",
            );
            self.frame(
                "huggingface_hub/commands/huggingface_cli.py",
                61,
                "main",
                "service.run()",
                "",
            );
            self.frame(
                "huggingface_hub/commands/download.py",
                146,
                "run",
                "print(self._download())  # Print path to downloaded files",
                "self._download()",
            );
        } else {
            self.frame(
                "/venv/main/bin/hf",
                8,
                "<module>",
                "sys.exit(main())",
                "main()",
            );
            self.frame("huggingface_hub/cli/hf.py", 59, "main", "service.run()", "");
            self.frame(
                "huggingface_hub/cli/download.py",
                136,
                "run",
                "print(self._download())  # Print path to downloaded files",
                "self._download()",
            );
        }
        let dl = if w.cli {
            "huggingface_hub/commands/download.py"
        } else {
            "huggingface_hub/cli/download.py"
        };
        if w.snapshot {
            self.frame(
                dl,
                if w.cli { 173 } else { 163 },
                "_download",
                "return snapshot_download(",
                "snapshot_download(",
            );
            self.validators();
            self.frame(
                "huggingface_hub/_snapshot_download.py",
                332,
                "snapshot_download",
                "thread_map(",
                "",
            );
            self.frame(
                "tqdm/contrib/concurrent.py",
                69,
                "thread_map",
                "return _executor_map(ThreadPoolExecutor, fn, *iterables, **tqdm_kwargs)",
                "_executor_map(ThreadPoolExecutor, fn, *iterables, **tqdm_kwargs)",
            );
            self.frame(
                "tqdm/contrib/concurrent.py",
                51,
                "_executor_map",
                "return list(tqdm_class(ex.map(fn, *iterables, chunksize=chunksize), **kwargs))",
                "list(tqdm_class(ex.map(fn, *iterables, chunksize=chunksize), **kwargs))",
            );
            self.frame("tqdm/std.py", 1181, "__iter__", "for obj in iterable:", "");
            self.frame(
                "std:concurrent/futures/_base.py",
                619,
                "result_iterator",
                "yield _result_or_cancel(fs.pop())",
                "_result_or_cancel(fs.pop())",
            );
            self.frame(
                "std:concurrent/futures/_base.py",
                317,
                "_result_or_cancel",
                "return fut.result(timeout)",
                "fut.result(timeout)",
            );
            self.frame(
                "std:concurrent/futures/_base.py",
                456,
                "result",
                "return self.__get_result()",
                "self.__get_result()",
            );
            self.frame(
                "std:concurrent/futures/_base.py",
                401,
                "__get_result",
                "raise self._exception",
                "",
            );
            self.frame(
                "std:concurrent/futures/thread.py",
                58,
                "run",
                "result = self.fn(*self.args, **self.kwargs)",
                "self.fn(*self.args, **self.kwargs)",
            );
            self.frame(
                "huggingface_hub/_snapshot_download.py",
                306,
                "_inner_hf_hub_download",
                "return hf_hub_download(",
                "hf_hub_download(",
            );
        } else {
            self.frame(
                dl,
                if w.cli { 159 } else { 149 },
                "_download",
                "return hf_hub_download(",
                "hf_hub_download(",
            );
        }
        self.validators();
        if w.local_dir {
            self.frame(
                "huggingface_hub/file_download.py",
                990,
                "hf_hub_download",
                "return _hf_hub_download_to_local_dir(",
                "_hf_hub_download_to_local_dir(",
            );
        } else {
            self.frame(
                "huggingface_hub/file_download.py",
                1010,
                "hf_hub_download",
                "return _hf_hub_download_to_cache_dir(",
                "_hf_hub_download_to_cache_dir(",
            );
        }
    }

    fn validators(&mut self) {
        self.frame(
            "huggingface_hub/utils/_validators.py",
            114,
            "_inner_fn",
            "return fn(*args, **kwargs)",
            "fn(*args, **kwargs)",
        );
    }

    fn inner_func(w: Where) -> &'static str {
        if w.local_dir {
            "_hf_hub_download_to_local_dir"
        } else {
            "_hf_hub_download_to_cache_dir"
        }
    }

    /// `_raise_on_head_call_error(...)` in the download function.
    fn raise_on_head(&mut self, w: Where) {
        let line = if w.local_dir { 1253 } else { 1117 };
        self.frame(
            "huggingface_hub/file_download.py",
            line,
            Self::inner_func(w),
            "_raise_on_head_call_error(head_call_error, force_download, local_files_only)",
            "",
        );
    }

    /// From `_get_metadata_or_catch_error` down to `_request_wrapper`.
    fn metadata_call(&mut self) {
        self.frame(
            "huggingface_hub/file_download.py",
            1546,
            "_get_metadata_or_catch_error",
            "metadata = get_hf_file_metadata(",
            "get_hf_file_metadata(",
        );
        self.validators();
        self.frame(
            "huggingface_hub/file_download.py",
            1463,
            "get_hf_file_metadata",
            "r = _request_wrapper(",
            "_request_wrapper(",
        );
        self.frame(
            "huggingface_hub/file_download.py",
            286,
            "_request_wrapper",
            "response = _request_wrapper(",
            "_request_wrapper(",
        );
    }

    /// requests' `HTTPError` raised in `hf_raise_for_status`.
    fn http_error(&mut self, status: u16, url: &str) {
        self.start();
        self.frame(
            "huggingface_hub/utils/_http.py",
            409,
            "hf_raise_for_status",
            "response.raise_for_status()",
            "",
        );
        self.frame(
            "requests/models.py",
            1167,
            "raise_for_status",
            "raise HTTPError(http_error_msg, response=self)",
            "",
        );
        self.exc(&format!(
            "requests.exceptions.HTTPError: {}",
            requests_text(status, url)
        ));
        self.cause();
    }
}

/// requests' `http_error_msg`: `404 Client Error: Not Found for url: URL`.
fn requests_text(status: u16, url: &str) -> String {
    let side = if status >= 500 { "Server" } else { "Client" };
    format!(
        "{status} {side} Error: {} for url: {url}",
        crate::net::response::reason(status)
    )
}

/// `hf_raise_for_status`'s message and line for one class.
fn hub_message(
    class: HubClass,
    status: u16,
    url: &str,
    server: Option<&str>,
) -> (&'static str, u32, String) {
    let (name, line, mut msg) = match class {
        HubClass::RepoNotFound => (
            "RepositoryNotFoundError",
            459,
            format!("{status} Client Error.\n\nRepository Not Found for url: {url}.\nPlease make sure you specified the correct `repo_id` and `repo_type`.\nIf you are trying to access a private or gated repo, make sure you are authenticated. For more details, see https://huggingface.co/docs/huggingface_hub/authentication"),
        ),
        HubClass::Gated => (
            "GatedRepoError",
            426,
            format!("{status} Client Error.\n\nCannot access gated repo for url {url}."),
        ),
        HubClass::EntryNotFound => (
            "EntryNotFoundError",
            420,
            format!("{status} Client Error.\n\nEntry Not Found for url: {url}."),
        ),
        HubClass::Forbidden => (
            "HfHubHTTPError",
            473,
            format!("\n\n{status} Forbidden: None.\nCannot access content at: {url}.\nMake sure your token has the correct permissions."),
        ),
        HubClass::Other => ("HfHubHTTPError", 477, requests_text(status, url)),
    };
    if let Some(s) = server.filter(|s| !msg.to_lowercase().contains(&s.to_lowercase())) {
        msg.push_str(if msg.contains("\n\n") { "\n" } else { "\n\n" });
        msg.push_str(s);
    }
    (name, line, msg)
}

/// The `(Request ID: …)` requests errors carry, from the URL (stable per run).
fn request_id(url: &str) -> String {
    let h = crate::net::fnv1a(&[b"hf-request", url.as_bytes()]);
    let h2 = h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        0x8000 | (h2 >> 48 & 0x3fff),
        h2 & 0xffff_ffff_ffff
    )
}

/// urllib3's pool and connection names and the URL's parts.
fn conn_parts(url: &str) -> (String, String, u16, String) {
    let u = crate::net::Url::parse(url);
    let (scheme, host, port, path) = match &u {
        Some(u) => (u.scheme.clone(), u.host.clone(), u.port, u.path.clone()),
        None => ("https".into(), String::new(), 443, url.to_string()),
    };
    let conn = if scheme == "https" {
        "HTTPSConnection"
    } else {
        "HTTPConnection"
    };
    (conn.to_string(), host, port, path)
}

/// The text of the connection error (`MaxRetryError(...)`) of a request to `url`.
pub(super) fn max_retry_text(cause: &NetCause, url: &str) -> (String, String) {
    let (conn, host, port, path) = conn_parts(url);
    let obj = format!(
        "<urllib3.connection.{conn} object at 0x7f{:010x}>",
        crate::net::fnv1a(&[url.as_bytes()]) & 0xff_ffff_fff0
    );
    let reason = match cause {
        NetCause::Refused => format!("NewConnectionError('{obj}: Failed to establish a new connection: [Errno 111] Connection refused')"),
        NetCause::Dns => format!("NameResolutionError(\"{obj}: Failed to resolve '{host}' ([Errno -2] Name or service not known)\")"),
    };
    let pool_name = if conn == "HTTPSConnection" {
        "HTTPSConnectionPool"
    } else {
        "HTTPConnectionPool"
    };
    (
        format!("{pool_name}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by {reason})"),
        obj,
    )
}

const LOCAL_ENTRY: &str = "An error happened while trying to locate the file on the Hub and we cannot find the requested files in the local cache. Please check your connection and try again or make sure your Internet connection is on.";

/// The 0.34 traceback chain for `f`.
pub(super) fn traceback(f: &Failure, w: Where) -> String {
    let mut tb = Tb::new();
    match f {
        Failure::Api(inner) => return api_traceback(inner, w),
        Failure::Offline { .. } => {
            tb.entry(w);
            tb.raise_on_head(w);
            tb.frame(
                "huggingface_hub/file_download.py",
                1642,
                "_raise_on_head_call_error",
                "raise LocalEntryNotFoundError(",
                "",
            );
            tb.exc("huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache and outgoing traffic has been disabled. To enable hf.co look-ups and downloads online, set 'local_files_only' to False.");
        }
        Failure::Http {
            status,
            class,
            url,
            server,
        } => {
            let (name, line, msg) = hub_message(*class, *status, url, server.as_deref());
            tb.http_error(*status, url);
            let raise = format!(
                "raise _format({name}, {}, response) from e",
                if *class == HubClass::Other {
                    "str(e)"
                } else {
                    "message"
                }
            );
            let re_raised = matches!(class, HubClass::RepoNotFound | HubClass::Gated);
            if *class == HubClass::EntryNotFound {
                tb.entry(w);
                let line_no = if w.local_dir { 1232 } else { 1073 };
                tb.frame("huggingface_hub/file_download.py", line_no, Tb::inner_func(w), "(url_to_download, etag, commit_hash, expected_size, xet_file_data, head_call_error) = _get_metadata_or_catch_error(", "_get_metadata_or_catch_error(");
            } else if re_raised {
                tb.entry(w);
                tb.raise_on_head(w);
                tb.frame(
                    "huggingface_hub/file_download.py",
                    1658,
                    "_raise_on_head_call_error",
                    "raise head_call_error",
                    "",
                );
            } else {
                tb.start();
            }
            tb.metadata_call();
            tb.frame(
                "huggingface_hub/file_download.py",
                310,
                "_request_wrapper",
                "hf_raise_for_status(response)",
                "",
            );
            tb.frame(
                "huggingface_hub/utils/_http.py",
                line,
                "hf_raise_for_status",
                &raise,
                "",
            );
            tb.exc(&format!("huggingface_hub.errors.{name}: {msg}"));
            if !re_raised && *class != HubClass::EntryNotFound {
                tb.cause();
                local_entry(&mut tb, w);
            }
        }
        Failure::Network { cause, url } => {
            let (text, obj) = max_retry_text(cause, url);
            let (_, host, _, _) = conn_parts(url);
            tb.start();
            tb.frame(
                "urllib3/connection.py",
                198,
                "_new_conn",
                "sock = connection.create_connection(",
                "connection.create_connection(",
            );
            match cause {
                NetCause::Dns => {
                    tb.frame(
                        "urllib3/util/connection.py",
                        60,
                        "create_connection",
                        "for res in socket.getaddrinfo(host, port, family, socket.SOCK_STREAM):",
                        "socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)",
                    );
                    tb.frame(
                        "std:socket.py",
                        974,
                        "getaddrinfo",
                        "for res in _socket.getaddrinfo(host, port, family, type, proto, flags):",
                        "_socket.getaddrinfo(host, port, family, type, proto, flags)",
                    );
                    tb.exc("socket.gaierror: [Errno -2] Name or service not known");
                }
                NetCause::Refused => {
                    tb.frame(
                        "urllib3/util/connection.py",
                        85,
                        "create_connection",
                        "raise err",
                        "",
                    );
                    tb.frame(
                        "urllib3/util/connection.py",
                        73,
                        "create_connection",
                        "sock.connect(sa)",
                        "",
                    );
                    tb.exc("ConnectionRefusedError: [Errno 111] Connection refused");
                }
            }
            tb.cause();
            tb.start();
            tb.frame(
                "urllib3/connectionpool.py",
                787,
                "urlopen",
                "response = self._make_request(",
                "self._make_request(",
            );
            tb.frame(
                "urllib3/connectionpool.py",
                488,
                "_make_request",
                "raise new_e",
                "",
            );
            tb.frame(
                "urllib3/connectionpool.py",
                464,
                "_make_request",
                "self._validate_conn(conn)",
                "",
            );
            tb.frame(
                "urllib3/connectionpool.py",
                1093,
                "_validate_conn",
                "conn.connect()",
                "",
            );
            tb.frame(
                "urllib3/connection.py",
                753,
                "connect",
                "self.sock = sock = self._new_conn()",
                "self._new_conn()",
            );
            match cause {
                NetCause::Dns => {
                    tb.frame(
                        "urllib3/connection.py",
                        205,
                        "_new_conn",
                        "raise NameResolutionError(self.host, self, e) from e",
                        "",
                    );
                    tb.exc(&format!("urllib3.exceptions.NameResolutionError: {obj}: Failed to resolve '{host}' ([Errno -2] Name or service not known)"));
                }
                NetCause::Refused => {
                    tb.frame(
                        "urllib3/connection.py",
                        213,
                        "_new_conn",
                        "raise NewConnectionError(",
                        "",
                    );
                    tb.exc(&format!("urllib3.exceptions.NewConnectionError: {obj}: Failed to establish a new connection: [Errno 111] Connection refused"));
                }
            }
            tb.cause();
            tb.start();
            tb.frame(
                "requests/adapters.py",
                667,
                "send",
                "resp = conn.urlopen(",
                "conn.urlopen(",
            );
            tb.frame(
                "urllib3/connectionpool.py",
                841,
                "urlopen",
                "retries = retries.increment(",
                "retries.increment(",
            );
            tb.frame(
                "urllib3/util/retry.py",
                519,
                "increment",
                "raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]",
                "",
            );
            tb.exc(&format!("urllib3.exceptions.MaxRetryError: {text}"));
            tb.during();
            tb.start();
            tb.metadata_call();
            tb.frame("huggingface_hub/file_download.py", 309, "_request_wrapper", "response = http_backoff(method=method, url=url, **params, retry_on_exceptions=(), retry_on_status_codes=(429,))", "http_backoff(method=method, url=url, **params, retry_on_exceptions=(), retry_on_status_codes=(429,))");
            tb.frame(
                "huggingface_hub/utils/_http.py",
                310,
                "http_backoff",
                "response = session.request(method=method, url=url, **kwargs)",
                "session.request(method=method, url=url, **kwargs)",
            );
            tb.frame(
                "requests/sessions.py",
                589,
                "request",
                "resp = self.send(prep, **send_kwargs)",
                "self.send(prep, **send_kwargs)",
            );
            tb.frame(
                "requests/sessions.py",
                703,
                "send",
                "r = adapter.send(request, **kwargs)",
                "adapter.send(request, **kwargs)",
            );
            tb.frame(
                "huggingface_hub/utils/_http.py",
                96,
                "send",
                "return super().send(request, *args, **kwargs)",
                "super().send(request, *args, **kwargs)",
            );
            tb.frame(
                "requests/adapters.py",
                700,
                "send",
                "raise ConnectionError(e, request=request)",
                "",
            );
            let quoted = text.replace('\\', "\\\\").replace('"', "\\\"");
            tb.exc(&format!(
                "requests.exceptions.ConnectionError: (MaxRetryError(\"{quoted}\"), '(Request ID: {})')",
                request_id(url)
            ));
            tb.cause();
            local_entry(&mut tb, w);
        }
        Failure::DiskFull => {
            tb.entry(w);
            download_frames(&mut tb, w);
            tb.frame(
                "huggingface_hub/file_download.py",
                434,
                "http_get",
                "temp_file.write(chunk)",
                "",
            );
            tb.exc("OSError: [Errno 28] No space left on device");
        }
        Failure::Dropped => {
            let reset = "(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", ConnectionResetError(104, 'Connection reset by peer'))";
            tb.start();
            tb.frame("urllib3/response.py", 754, "_error_catcher", "yield", "");
            tb.frame(
                "urllib3/response.py",
                900,
                "_raw_read",
                "data = self._fp_read(amt, read1=read1) if not fp_closed else b\"\"",
                "self._fp_read(amt, read1=read1)",
            );
            tb.frame(
                "urllib3/response.py",
                876,
                "_fp_read",
                "return self._fp.read(amt) if amt is not None else self._fp.read()",
                "self._fp.read(amt)",
            );
            tb.frame(
                "std:http/client.py",
                473,
                "read",
                "s = self.fp.read(amt)",
                "self.fp.read(amt)",
            );
            tb.frame(
                "std:socket.py",
                718,
                "readinto",
                "return self._sock.recv_into(b)",
                "self._sock.recv_into(b)",
            );
            tb.exc("ConnectionResetError: [Errno 104] Connection reset by peer");
            tb.cause();
            tb.start();
            tb.frame(
                "requests/models.py",
                820,
                "generate",
                "yield from self.raw.stream(chunk_size, decode_content=True)",
                "",
            );
            tb.frame(
                "urllib3/response.py",
                1066,
                "stream",
                "data = self.read(amt=amt, decode_content=decode_content)",
                "self.read(amt=amt, decode_content=decode_content)",
            );
            tb.frame(
                "urllib3/response.py",
                983,
                "read",
                "data = self._raw_read(amt)",
                "self._raw_read(amt)",
            );
            tb.frame(
                "urllib3/response.py",
                878,
                "_raw_read",
                "with self._error_catcher():",
                "",
            );
            tb.frame(
                "std:contextlib.py",
                158,
                "__exit__",
                "self.gen.throw(typ, value, traceback)",
                "",
            );
            tb.frame(
                "urllib3/response.py",
                778,
                "_error_catcher",
                "raise ProtocolError(f\"Connection broken: {e!r}\", e) from e",
                "",
            );
            tb.exc(&format!("urllib3.exceptions.ProtocolError: {reset}"));
            tb.during();
            tb.entry(w);
            download_frames(&mut tb, w);
            tb.frame(
                "huggingface_hub/file_download.py",
                424,
                "http_get",
                "for chunk in r.iter_content(chunk_size=constants.DOWNLOAD_CHUNK_SIZE):",
                "",
            );
            tb.frame(
                "requests/models.py",
                822,
                "generate",
                "raise ChunkedEncodingError(e)",
                "",
            );
            tb.exc(&format!(
                "requests.exceptions.ChunkedEncodingError: {reset}"
            ));
        }
    }
    tb.0
}

const SNAPSHOT_LOCAL: &str = "An error happened while trying to locate the files on the Hub and we cannot find the appropriate snapshot folder for the specified revision on the local disk. Please check your internet connection and try again.";

/// From `snapshot_download` into `repo_info` and the `*_info` call.
fn repo_info_frames(tb: &mut Tb, w: Where) {
    let dl = if w.cli {
        "huggingface_hub/commands/download.py"
    } else {
        "huggingface_hub/cli/download.py"
    };
    tb.start();
    if w.cli {
        tb.frame(
            "/venv/main/bin/huggingface-cli",
            8,
            "<module>",
            "sys.exit(main())",
            "main()",
        );
        tb.frame(
            "huggingface_hub/commands/huggingface_cli.py",
            61,
            "main",
            "service.run()",
            "",
        );
        tb.frame(
            dl,
            146,
            "run",
            "print(self._download())  # Print path to downloaded files",
            "self._download()",
        );
        tb.frame(
            dl,
            173,
            "_download",
            "return snapshot_download(",
            "snapshot_download(",
        );
    } else {
        tb.frame(
            "/venv/main/bin/hf",
            8,
            "<module>",
            "sys.exit(main())",
            "main()",
        );
        tb.frame("huggingface_hub/cli/hf.py", 59, "main", "service.run()", "");
        tb.frame(
            dl,
            136,
            "run",
            "print(self._download())  # Print path to downloaded files",
            "self._download()",
        );
        tb.frame(
            dl,
            163,
            "_download",
            "return snapshot_download(",
            "snapshot_download(",
        );
    }
    tb.validators();
}

/// The chain of a failed `repo_info` in `snapshot_download`.
fn api_traceback(f: &Failure, w: Where) -> String {
    let mut tb = Tb::new();
    let info_call = |tb: &mut Tb| {
        tb.frame(
            "huggingface_hub/_snapshot_download.py",
            165,
            "snapshot_download",
            "repo_info = api.repo_info(repo_id=repo_id, repo_type=repo_type, revision=revision)",
            "api.repo_info(repo_id=repo_id, repo_type=repo_type, revision=revision)",
        );
        tb.validators();
        tb.frame(
            "huggingface_hub/hf_api.py",
            2867,
            "repo_info",
            "return method(",
            "method(",
        );
        tb.validators();
    };
    match f {
        Failure::Http {
            status,
            class,
            url,
            server,
        } => {
            let (name, line, msg) = hub_message(*class, *status, url, server.as_deref());
            tb.http_error(*status, url);
            let re_raised =
                matches!(class, HubClass::RepoNotFound | HubClass::Gated) || *status == 401;
            if re_raised {
                repo_info_frames(&mut tb, w);
                tb.frame(
                    "huggingface_hub/_snapshot_download.py",
                    245,
                    "snapshot_download",
                    "raise api_call_error",
                    "",
                );
            } else {
                tb.start();
            }
            info_call(&mut tb);
            tb.frame(
                "huggingface_hub/hf_api.py",
                2661,
                "model_info",
                "hf_raise_for_status(r)",
                "",
            );
            let arg = if *class == HubClass::Other {
                "str(e)"
            } else {
                "message"
            };
            tb.frame(
                "huggingface_hub/utils/_http.py",
                line,
                "hf_raise_for_status",
                &format!("raise _format({name}, {arg}, response) from e"),
                "",
            );
            tb.exc(&format!("huggingface_hub.errors.{name}: {msg}"));
            if !re_raised {
                tb.cause();
                repo_info_frames(&mut tb, w);
                tb.frame(
                    "huggingface_hub/_snapshot_download.py",
                    248,
                    "snapshot_download",
                    "raise LocalEntryNotFoundError(",
                    "",
                );
                tb.exc(&format!(
                    "huggingface_hub.errors.LocalEntryNotFoundError: {SNAPSHOT_LOCAL}"
                ));
            }
        }
        Failure::Network { cause, url } => {
            let (text, _) = max_retry_text(cause, url);
            let quoted = text.replace('\\', "\\\\").replace('"', "\\\"");
            tb.start();
            info_call(&mut tb);
            tb.frame(
                "huggingface_hub/hf_api.py",
                2660,
                "model_info",
                "r = get_session().get(path, headers=headers, timeout=timeout, params=params)",
                "get_session().get(path, headers=headers, timeout=timeout, params=params)",
            );
            tb.frame(
                "requests/sessions.py",
                602,
                "get",
                "return self.request(\"GET\", url, **kwargs)",
                "self.request(\"GET\", url, **kwargs)",
            );
            tb.frame(
                "requests/sessions.py",
                589,
                "request",
                "resp = self.send(prep, **send_kwargs)",
                "self.send(prep, **send_kwargs)",
            );
            tb.frame(
                "requests/sessions.py",
                703,
                "send",
                "r = adapter.send(request, **kwargs)",
                "adapter.send(request, **kwargs)",
            );
            tb.frame(
                "huggingface_hub/utils/_http.py",
                96,
                "send",
                "return super().send(request, *args, **kwargs)",
                "super().send(request, *args, **kwargs)",
            );
            tb.frame(
                "requests/adapters.py",
                700,
                "send",
                "raise ConnectionError(e, request=request)",
                "",
            );
            tb.exc(&format!("requests.exceptions.ConnectionError: (MaxRetryError(\"{quoted}\"), '(Request ID: {})')", request_id(url)));
            tb.cause();
            repo_info_frames(&mut tb, w);
            tb.frame(
                "huggingface_hub/_snapshot_download.py",
                248,
                "snapshot_download",
                "raise LocalEntryNotFoundError(",
                "",
            );
            tb.exc(&format!(
                "huggingface_hub.errors.LocalEntryNotFoundError: {SNAPSHOT_LOCAL}"
            ));
        }
        Failure::Offline { .. } => {
            repo_info_frames(&mut tb, w);
            tb.frame(
                "huggingface_hub/_snapshot_download.py",
                234,
                "snapshot_download",
                "raise LocalEntryNotFoundError(",
                "",
            );
            tb.exc("huggingface_hub.errors.LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, pass 'local_files_only=False' as input.");
        }
        other => return traceback(other, w),
    }
    tb.0
}

/// `_download_to_tmp_and_move(` then `http_get(`.
fn download_frames(tb: &mut Tb, w: Where) {
    let line = if w.local_dir { 1302 } else { 1159 };
    tb.frame(
        "huggingface_hub/file_download.py",
        line,
        Tb::inner_func(w),
        "_download_to_tmp_and_move(",
        "",
    );
    tb.frame(
        "huggingface_hub/file_download.py",
        1723,
        "_download_to_tmp_and_move",
        "http_get(",
        "",
    );
}

/// The `LocalEntryNotFoundError` `_raise_on_head_call_error` raises for
/// every HEAD failure that is not a missing or gated repo.
fn local_entry(tb: &mut Tb, w: Where) {
    tb.entry(w);
    tb.raise_on_head(w);
    tb.frame(
        "huggingface_hub/file_download.py",
        1669,
        "_raise_on_head_call_error",
        "raise LocalEntryNotFoundError(",
        "",
    );
    tb.exc(&format!(
        "huggingface_hub.errors.LocalEntryNotFoundError: {LOCAL_ENTRY}"
    ));
}

/// The text of the HEAD error that a local file overrides
/// (`Couldn't access the Hub ... (error: TEXT)`): `str(head_call_error)`.
pub(super) fn head_error_text(f: &Failure) -> String {
    match f {
        Failure::Api(inner) => head_error_text(inner),
        Failure::Offline { what } => {
            format!("Cannot access file since 'local_files_only=True' as been set. ({what})")
        }
        Failure::Http {
            status,
            class,
            url,
            server,
        } => hub_message(*class, *status, url, server.as_deref()).2,
        Failure::Network { cause, url } => {
            let (text, _) = max_retry_text(cause, url);
            format!(
                "(MaxRetryError(\"{}\"), '(Request ID: {})')",
                text.replace('"', "\\\""),
                request_id(url)
            )
        }
        Failure::DiskFull => "[Errno 28] No space left on device".into(),
        Failure::Dropped => "Connection broken".into(),
    }
}

/// 2.x's ending for `f`: a bold red `Error:` block and the `HF_DEBUG` hint.
pub(super) fn v2_error(f: &Failure, kind: &str, repo: &str, file: &str) -> String {
    if let Failure::Api(inner) = f {
        return v2_error(inner, kind, repo, file);
    }
    let title = kind_title(kind);
    let body = match f {
        Failure::Http { class: HubClass::RepoNotFound, .. } => format!(
            "{title} '{repo}' not found.\nIf the repo is private, make sure you are authenticated and your token has the required permissions.\nIf the repo does not exist, create it with: hf repos create {repo}"
        ),
        Failure::Http { class: HubClass::Gated, .. } => format!(
            "Access denied. {title} '{repo}' is gated.\nPlease request access at https://huggingface.co/{repo} and make sure you are authenticated."
        ),
        Failure::Http { class: HubClass::EntryNotFound, .. } => {
            format!("File '{file}' not found in {} '{repo}'.", title.to_lowercase())
        }
        Failure::Http { status, url, .. } => requests_text(*status, url),
        Failure::Network { url, .. } => {
            let (_, host, _, _) = conn_parts(url);
            format!("Cannot reach '{host}'. Please check your internet connection and try again.")
        }
        Failure::DiskFull => "[Errno 28] No space left on device".into(),
        Failure::Dropped => "Connection broken: ConnectionResetError(104, 'Connection reset by peer')".into(),
        Failure::Api(_) => String::new(),
        Failure::Offline { .. } => "Cannot find the requested files in the disk cache and outgoing traffic has been disabled.".into(),
    };
    format!("\x1b[1m\x1b[31mError: {body}\x1b[0m\n\x1b[90mHint: set HF_DEBUG=1 as environment variable for full traceback.\x1b[0m\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> String {
        std::fs::read_to_string(
            crate::tools::golden::cases::fixtures()
                .join("captures")
                .join(name),
        )
        .unwrap_or_default()
    }

    #[test]
    fn tracebacks_are_the_captured_ones() {
        let w = Where {
            cli: false,
            local_dir: true,
            snapshot: false,
        };
        let f = Failure::Http {
            status: 404,
            class: HubClass::RepoNotFound,
            url: "http://127.0.0.1:8765/missing/model/resolve/main/model.safetensors".into(),
            server: None,
        };
        assert_eq!(traceback(&f, w), capture("hf_404repo.err"));
        let f = Failure::Http {
            status: 404,
            class: HubClass::EntryNotFound,
            url: "http://127.0.0.1:8765/org/model/resolve/main/nofile.safetensors".into(),
            server: None,
        };
        assert_eq!(traceback(&f, w), capture("hf_noentry.err"));
    }
}
