//! The sftp subsystem, end to end: SFTP requests sent over a real SSH
//! channel to a fakessh server in this process (loopback TCP, one logged-in
//! connection reused, a new `sftp` channel per input). The server's handler
//! is private to `fakessh::server`, so the packets go the way a client's do:
//! russh's channel, the server's pump, russh-sftp's decoder, our handler,
//! the confined sandbox.
//!
//! Input (through `arbitrary`): a list of typed requests (open, read,
//! write, stat, rename, symlink, ... with paths drawn from a table of
//! interesting ones or free text, handles by number, attributes), framed
//! and numbered by the target, after an `INIT` unless the input says not,
//! then optional raw bytes (a torn or malformed packet).
//!
//! Must hold: no panic; the session ends (exit status, then close) within
//! the timeout after the client's EOF; nothing outside the sandbox root
//! changes (`../canary`, symlinks pointing out, renames out).

#![no_main]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbitrary::Arbitrary;
use fakessh::server::{self, RunningServer, ServerConfig};
use fakessh_fuzz::Confined;
use libfuzzer_sys::fuzz_target;
use russh::ChannelMsg;

/// Inputs served by one instance and connection before fresh ones.
const RENEW_EVERY: u32 = 1000;
/// From the client's EOF to the channel's close.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_OPS: usize = 48;

const PATHS: &[&str] = &[
    ".",
    "/",
    "",
    "..",
    "../..",
    "/root",
    "/root/x.bin",
    "/root/d",
    "/root/d/f",
    "/tmp",
    "/tmp/link",
    "/tmp/x",
    "/workspace/ComfyUI/models/loras",
    "/workspace/ComfyUI/models/loras/a.safetensors",
    "../canary",
    "/../canary",
    "../../canary_dir/file",
    "/../canary_dir",
    "/proc/self/root",
    "/dev/null",
    "/etc/passwd",
    "link",
    "link/../x",
    "/root/link/f",
];

#[derive(Arbitrary, Debug)]
enum Path {
    Known(u8),
    Joined(u8, String),
    Free(String),
}

#[derive(Arbitrary, Debug)]
enum Handle {
    Recent(u8),
    Free(String),
}

#[derive(Arbitrary, Debug)]
enum Offset {
    Small(u16),
    Any(u64),
}

#[derive(Arbitrary, Debug)]
struct Attrs {
    size: Option<u64>,
    ids: Option<(u32, u32)>,
    perm: Option<u32>,
    times: Option<(u32, u32)>,
    extended: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Open(Path, u32, Attrs),
    Close(Handle),
    Read(Handle, Offset, u32),
    Write(Handle, Offset, Vec<u8>),
    Lstat(Path),
    Fstat(Handle),
    SetStat(Path, Attrs),
    FSetStat(Handle, Attrs),
    OpenDir(Path),
    ReadDir(Handle),
    Remove(Path),
    MkDir(Path, Attrs),
    RmDir(Path),
    RealPath(Path),
    Stat(Path),
    Rename(Path, Path),
    ReadLink(Path),
    Symlink(Path, Path),
    Extended(String, Vec<u8>),
    Init(u32),
    Raw(u8, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    skip_init: bool,
    ops: Vec<Op>,
    tail: Vec<u8>,
}

#[derive(Default)]
struct Packet(Vec<u8>);

impl Packet {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
        self
    }
    fn path(&mut self, p: &Path) -> &mut Self {
        let known = |i: &u8| PATHS[*i as usize % PATHS.len()];
        match p {
            Path::Known(i) => self.bytes(known(i).as_bytes()),
            Path::Joined(i, rest) => self.bytes(format!("{}/{rest}", known(i)).as_bytes()),
            Path::Free(s) => self.bytes(s.as_bytes()),
        }
    }
    fn handle(&mut self, h: &Handle) -> &mut Self {
        match h {
            Handle::Recent(n) => self.bytes((n % 80).to_string().as_bytes()),
            Handle::Free(s) => self.bytes(s.as_bytes()),
        }
    }
    fn offset(&mut self, o: &Offset) -> &mut Self {
        match o {
            Offset::Small(n) => self.u64(u64::from(*n)),
            Offset::Any(n) => self.u64(*n),
        }
    }
    fn attrs(&mut self, a: &Attrs) -> &mut Self {
        let mut flags = 0u32;
        flags |= if a.size.is_some() { 0x1 } else { 0 };
        flags |= if a.ids.is_some() { 0x2 } else { 0 };
        flags |= if a.perm.is_some() { 0x4 } else { 0 };
        flags |= if a.times.is_some() { 0x8 } else { 0 };
        flags |= if a.extended.is_empty() {
            0
        } else {
            0x8000_0000
        };
        self.u32(flags);
        if let Some(s) = a.size {
            self.u64(s);
        }
        if let Some((u, g)) = a.ids {
            self.u32(u).u32(g);
        }
        if let Some(p) = a.perm {
            self.u32(p);
        }
        if let Some((at, mt)) = a.times {
            self.u32(at).u32(mt);
        }
        if !a.extended.is_empty() {
            self.u32(a.extended.len() as u32);
            for (k, v) in &a.extended {
                self.bytes(k.as_bytes()).bytes(v.as_bytes());
            }
        }
        self
    }
}

/// The wire bytes of the input's requests (request ids count from 1).
fn encode(input: &Input) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut frame = |p: Packet| {
        wire.extend_from_slice(&(p.0.len() as u32).to_be_bytes());
        wire.extend_from_slice(&p.0);
    };
    if !input.skip_init {
        let mut p = Packet::default();
        p.u8(1).u32(3);
        frame(p);
    }
    for (id, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        let id = id as u32 + 1;
        let mut p = Packet::default();
        match op {
            Op::Open(path, pflags, a) => p.u8(3).u32(id).path(path).u32(*pflags).attrs(a),
            Op::Close(h) => p.u8(4).u32(id).handle(h),
            Op::Read(h, o, len) => p.u8(5).u32(id).handle(h).offset(o).u32(*len),
            Op::Write(h, o, data) => p.u8(6).u32(id).handle(h).offset(o).bytes(data),
            Op::Lstat(path) => p.u8(7).u32(id).path(path),
            Op::Fstat(h) => p.u8(8).u32(id).handle(h),
            Op::SetStat(path, a) => p.u8(9).u32(id).path(path).attrs(a),
            Op::FSetStat(h, a) => p.u8(10).u32(id).handle(h).attrs(a),
            Op::OpenDir(path) => p.u8(11).u32(id).path(path),
            Op::ReadDir(h) => p.u8(12).u32(id).handle(h),
            Op::Remove(path) => p.u8(13).u32(id).path(path),
            Op::MkDir(path, a) => p.u8(14).u32(id).path(path).attrs(a),
            Op::RmDir(path) => p.u8(15).u32(id).path(path),
            Op::RealPath(path) => p.u8(16).u32(id).path(path),
            Op::Stat(path) => p.u8(17).u32(id).path(path),
            Op::Rename(from, to) => p.u8(18).u32(id).path(from).path(to),
            Op::ReadLink(path) => p.u8(19).u32(id).path(path),
            Op::Symlink(link, target) => p.u8(20).u32(id).path(link).path(target),
            Op::Extended(name, data) => {
                p.u8(200).u32(id).bytes(name.as_bytes());
                p.0.extend_from_slice(data);
                &mut p
            }
            Op::Init(version) => p.u8(1).u32(*version),
            Op::Raw(kind, body) => {
                p.u8(*kind);
                p.0.extend_from_slice(body);
                &mut p
            }
        };
        frame(p);
    }
    wire.extend_from_slice(&input.tail);
    wire
}

struct Client;

impl russh::client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A server over a fresh instance and a client logged in to it.
struct Generation {
    uses: u32,
    handle: russh::client::Handle<Client>,
    server: RunningServer,
    confined: Confined,
}

struct Target {
    rt: tokio::runtime::Runtime,
    current: Option<Generation>,
}

static TARGET: Mutex<Option<Target>> = Mutex::new(None);

async fn start() -> Generation {
    let confined = Confined::new(fakessh_fuzz::config());
    let server = server::start(confined.instance.clone(), ServerConfig::loopback())
        .await
        .expect("server starts");
    let config = Arc::new(russh::client::Config {
        nodelay: true,
        ..Default::default()
    });
    let mut handle = russh::client::connect(config, server.local_addr(), Client)
        .await
        .expect("connects");
    let auth = handle
        .authenticate_password("root", "fuzz")
        .await
        .expect("auth request");
    assert!(auth.success(), "login refused");
    Generation {
        uses: 0,
        handle,
        server,
        confined,
    }
}

/// Runs one sftp channel with these bytes; returns what came back.
async fn session(handle: &russh::client::Handle<Client>, wire: Vec<u8>) -> Vec<u8> {
    let channel = handle.channel_open_session().await.expect("channel opens");
    channel
        .request_subsystem(true, "sftp")
        .await
        .expect("subsystem request sent");
    let (mut rx, tx) = channel.split();
    let send = async move {
        // The server may close first (a refused packet ends nothing, but a
        // closed pump does): a failed send is fine.
        let _ = tx.data(&wire[..]).await;
        let _ = tx.eof().await;
        tx
    };
    let receive = async move {
        let mut got = Vec::new();
        let mut status = None;
        while let Some(msg) = rx.wait().await {
            match msg {
                ChannelMsg::Data { data } => got.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        assert_eq!(
            status,
            Some(0),
            "the sftp channel ended without exit status 0"
        );
        got
    };
    let (_tx, got) = tokio::time::timeout(SESSION_TIMEOUT, async { tokio::join!(send, receive) })
        .await
        .unwrap_or_else(|_| panic!("the sftp session did not end within {SESSION_TIMEOUT:?}"));
    got
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else {
        return;
    };
    let wire = encode(&input);
    let mut guard = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let target = guard.get_or_insert_with(|| Target {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
        current: None,
    });
    if target
        .current
        .as_ref()
        .is_some_and(|g| g.uses >= RENEW_EVERY)
    {
        if let Some(old) = target.current.take() {
            target.rt.block_on(async move {
                let _ = old
                    .handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
                old.server.shutdown().await;
                drop(old.confined);
            });
        }
    }
    let rt = &target.rt;
    let generation = match &mut target.current {
        Some(g) => g,
        None => target.current.insert(rt.block_on(start())),
    };
    generation.uses += 1;
    rt.block_on(session(&generation.handle, wire));
    generation.confined.assert_confined();
});
