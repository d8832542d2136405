use super::super::testutil::{instance, run};

#[tokio::test]
async fn list_and_freeze_show_the_images_packages() {
    let i = instance();
    let r = run(&i, "/", &["pip", "list"], b"").await;
    assert!(r
        .1
        .starts_with("Package            Version\n------------------ "));
    assert!(r.1.contains("\ncivitdl            2.2.0\n"));
    let r = run(&i, "/", &["pip3", "freeze"], b"").await;
    assert!(r.1.contains("torch==2.3.0+cu121\n"));
    assert!(!r.1.contains("pip=="));
}

#[tokio::test]
async fn an_installed_package_is_already_satisfied() {
    let i = instance();
    let r = run(&i, "/", &["pip", "install", "requests>=2.0"], b"").await;
    assert_eq!(
        r,
        (
            0,
            "Requirement already satisfied: requests>=2.0 in /venv/main/lib/python3.11/site-packages (2.32.3)\n".into(),
            String::new()
        )
    );
}

#[tokio::test]
async fn a_new_package_and_its_dependencies_are_collected_downloaded_and_installed() {
    let i = instance();
    let r = run(&i, "/", &["pip", "install", "GitPython"], b"").await;
    assert_eq!(r.0, 0, "{}", r.2);
    let lines: Vec<&str> = r.1.lines().collect();
    assert_eq!(lines[0], "Collecting GitPython");
    assert!(lines[1].starts_with("  Downloading gitpython-3.1.43-py3-none-any.whl.metadata ("));
    assert_eq!(lines[2], "Collecting gitdb<5,>=4.0.1 (from gitpython)");
    assert!(lines.contains(&"Collecting smmap<6,>=3.0.1 (from gitdb)"));
    assert!(lines.contains(&"Downloading gitpython-3.1.43-py3-none-any.whl (207 kB)"));
    assert!(lines.contains(&"Installing collected packages: smmap, gitdb, gitpython"));
    assert_eq!(
        lines.last(),
        Some(&"Successfully installed gitdb-4.0.11 gitpython-3.1.43 smmap-5.0.1")
    );
    // It is on disk and in the lists now; a second install finds it.
    let r = run(
        &i,
        "/",
        &["ls", "/venv/main/lib/python3.11/site-packages"],
        b"",
    )
    .await;
    assert!(r.1.contains("gitpython-3.1.43.dist-info"), "{}", r.1);
    let r = run(&i, "/", &["pip", "list"], b"").await;
    assert!(r.1.contains("\nsmmap "), "{}", r.1);
    let r = run(&i, "/", &["pip", "install", "gitpython"], b"").await;
    assert_eq!(
        r.1,
        "Requirement already satisfied: gitpython in /venv/main/lib/python3.11/site-packages (3.1.43)\n"
    );
    let r = run(&i, "/", &["pip", "show", "gitpython"], b"").await;
    assert!(r.1.starts_with("Name: gitpython\nVersion: 3.1.43\n"));
    let r = run(&i, "/", &["pip", "uninstall", "-y", "gitpython"], b"").await;
    assert_eq!(
        r.1,
        "Found existing installation: gitpython 3.1.43\nUninstalling gitpython-3.1.43:\n  Successfully uninstalled gitpython-3.1.43\n"
    );
    let r = run(&i, "/", &["pip", "show", "gitpython"], b"").await;
    assert_eq!(r.0, 1);
}

#[tokio::test]
async fn an_unknown_name_fails_and_installs_nothing() {
    let i = instance();
    let r = run(&i, "/", &["pip", "install", "einops", "nosuchpkg"], b"").await;
    assert_eq!(r.0, 1);
    assert!(r.1.starts_with("Collecting einops\n"));
    assert_eq!(
        r.2,
        "ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)\nERROR: No matching distribution found for nosuchpkg\n"
    );
    let r = run(&i, "/", &["pip", "show", "einops"], b"").await;
    assert_eq!(r.0, 1, "nothing was installed");
}

#[tokio::test]
async fn requirements_files_pins_quiet_and_bad_options() {
    let i = instance();
    let fs = i.sandbox.fs("/");
    fs.create_dir_all("/workspace/node").unwrap();
    fs.write(
        "/workspace/node/requirements.txt",
        b"# deps\neinops==0.7.0\nnumpy  # already there\n\n--extra-index-url https://x\n",
    )
    .unwrap();
    let r = run(
        &i,
        "/workspace/node",
        &["pip", "install", "-r", "requirements.txt"],
        b"",
    )
    .await;
    assert_eq!(r.0, 0, "{}", r.2);
    assert!(r.1.contains("Collecting einops==0.7.0\n"));
    assert!(r.1.contains("Requirement already satisfied: numpy in "));
    assert!(r.1.ends_with("Successfully installed einops-0.7.0\n"));
    let r = run(&i, "/", &["pip", "-q", "install", "piexif"], b"").await;
    assert_eq!((r.0, r.1.as_str()), (0, ""));
    let r = run(&i, "/", &["pip", "install", "-r", "nope.txt"], b"").await;
    assert_eq!(
        (r.0, r.2.as_str()),
        (1, "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'nope.txt'\n")
    );
    let r = run(&i, "/", &["pip", "install", "--frobnicate", "x"], b"").await;
    assert_eq!(r.0, 2);
    assert!(r.2.ends_with("\nno such option: --frobnicate\n"));
    let r = run(&i, "/", &["pip", "install"], b"").await;
    assert_eq!(r.0, 1);
}
