//! The sandbox's confinement, seen from outside: no path, `..` or
//! symlink leads out of the root.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn plant_outside() -> (tempfile::TempDir, PathBuf) {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "host secret").unwrap();
    (outside, secret)
}

#[test]
fn absolute_clamps_dotdot_at_root() {
    assert_eq!(Sandbox::absolute("/tmp", "../../../etc"), "/etc");
    assert_eq!(Sandbox::absolute("/a/b", "./c/../d"), "/a/b/d");
    assert_eq!(Sandbox::absolute("/", ".."), "/");
}

#[test]
fn dotdot_never_leaves_the_root() {
    let sb = Sandbox::temp().unwrap();
    sb.fs("/").create_dir_all("/etc").unwrap();
    sb.fs("/").create_dir_all("/tmp").unwrap();
    sb.fs("/").write("/etc/passwd", b"inside").unwrap();
    let data = sb
        .fs("/tmp")
        .read("../../../../etc/passwd", 1 << 20)
        .unwrap();
    assert_eq!(data, b"inside");
}

#[test]
fn absolute_symlink_is_rerooted() {
    let sb = Sandbox::temp().unwrap();
    let (outside, _) = plant_outside();
    sb.fs("/").create_dir_all("/etc").unwrap();
    sb.fs("/").write("/etc/secret", b"inside").unwrap();
    // A link to the host's real path of a directory outside the root.
    sb.fs("/")
        .symlink(outside.path().to_str().unwrap(), "/out")
        .unwrap();
    sb.fs("/").symlink("/etc", "/escape").unwrap();
    assert_eq!(sb.fs("/").read("escape/secret", 100).unwrap(), b"inside");
    assert!(sb.fs("/").read("out/secret", 100).is_err());
    assert_eq!(
        sb.fs("/").canonical("escape/secret").unwrap(),
        "/etc/secret"
    );
}

#[test]
fn relative_symlink_with_dotdots_is_clamped() {
    let sb = Sandbox::temp().unwrap();
    sb.fs("/").create_dir_all("/a").unwrap();
    sb.fs("/").create_dir_all("/etc").unwrap();
    sb.fs("/").symlink("../../../../../..", "/a/up").unwrap();
    assert!(sb.fs("/").is_dir("a/up/etc"));
    assert_eq!(sb.fs("/").canonical("a/up/etc").unwrap(), "/etc");
}

#[test]
fn writes_through_a_link_out_stay_inside() {
    let sb = Sandbox::temp().unwrap();
    let (_outside, secret) = plant_outside();
    sb.fs("/").symlink(secret.to_str().unwrap(), "/l").unwrap();
    // The target is read as an instance path, whose parents do not exist.
    assert!(sb.fs("/").write("/l", b"x").is_err());
    assert_eq!(std::fs::read(&secret).unwrap(), b"host secret");
}

#[test]
fn symlink_loop_is_an_error() {
    let sb = Sandbox::temp().unwrap();
    sb.fs("/").symlink("/loop", "/loop").unwrap();
    let e = sb.fs("/").metadata("loop").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(40), "{e}");
}

#[test]
fn lstat_keeps_the_last_link() {
    let sb = Sandbox::temp().unwrap();
    sb.fs("/").symlink("/etc", "/l").unwrap();
    assert!(sb
        .fs("/")
        .symlink_metadata("l")
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(sb.fs("/").read_link("l").unwrap(), PathBuf::from("/etc"));
}

#[test]
fn remove_dir_all_removes_links_not_targets() {
    let sb = Sandbox::temp().unwrap();
    let (outside, secret) = plant_outside();
    sb.fs("/").create_dir_all("/t/a/b").unwrap();
    sb.fs("/").write("/t/a/b/f", b"1").unwrap();
    std::os::unix::fs::symlink(outside.path(), sb.host_path("/t/a/out")).unwrap();
    sb.fs("/").remove_dir_all("/t").unwrap();
    assert!(!sb.fs("/").exists("/t"));
    assert!(secret.exists());
}

#[test]
fn names_at_the_root_are_refused_for_mutation() {
    let sb = Sandbox::temp().unwrap();
    assert!(sb.fs("/").remove_dir("/").is_err());
    assert!(sb.fs("/").remove_dir_all("..").is_err());
    assert!(sb.fs("/tmp").create_dir("..").is_err());
    assert!(sb.fs("/").metadata("/").unwrap().is_dir());
}

#[test]
fn open_dir_reads_batches_with_lstat_metadata() {
    let sb = Sandbox::temp().unwrap();
    let (outside, _) = plant_outside();
    sb.fs("/").create_dir_all("/d/sub").unwrap();
    sb.fs("/").write("/d/f", b"abc").unwrap();
    sb.fs("/")
        .symlink(outside.path().to_str().unwrap(), "/d/out")
        .unwrap();
    sb.fs("/").symlink("/d", "/l").unwrap();
    // Through a link to it, as `opendir` follows a final symlink.
    let mut dir = sb.fs("/").open_dir("l").unwrap();
    assert!(dir.metadata().is_dir());
    let mut seen = Vec::new();
    loop {
        let batch = dir.next_batch(2).unwrap();
        assert!(batch.len() <= 2);
        if batch.is_empty() {
            break;
        }
        seen.extend(batch);
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let kinds: Vec<(String, bool, bool, u64)> = seen
        .iter()
        .map(|(n, m)| {
            let t = m.file_type();
            (
                n.to_string_lossy().into_owned(),
                t.is_dir(),
                t.is_symlink(),
                m.len(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("f".into(), false, false, 3));
    assert_eq!(kinds[1].0, "out");
    assert!(kinds[1].2, "a link is described, not followed");
    assert_eq!(kinds[2], ("sub".into(), true, false, kinds[2].3));
    assert_eq!(kinds.len(), 3);
    assert!(sb.fs("/").open_dir("d/f").is_err());
}

#[test]
fn rename_noreplace_keeps_an_existing_target() {
    let sb = Sandbox::temp().unwrap();
    let fs = sb.fs("/");
    fs.write("/a", b"a").unwrap();
    fs.write("/b", b"b").unwrap();
    let e = fs.rename_noreplace("/a", "/b").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs.read("/b", 10).unwrap(), b"b");
    fs.rename_noreplace("/a", "/c").unwrap();
    assert_eq!(fs.read("/c", 10).unwrap(), b"a");
    assert!(!fs.exists("/a"));
}

#[test]
fn modes_of_new_files_and_directories_can_be_chosen() {
    let sb = Sandbox::temp().unwrap();
    let fs = sb.fs("/");
    fs.open(
        "/f",
        OpenOptions::new().write(true).create(true).mode(0o600),
    )
    .unwrap();
    fs.create_dir_mode("/d", 0o700).unwrap();
    assert_eq!(
        fs.metadata("/f").unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs.metadata("/d").unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn nul_bytes_are_invalid() {
    let sb = Sandbox::temp().unwrap();
    assert_eq!(
        sb.fs("/").metadata("a\0b").unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}
