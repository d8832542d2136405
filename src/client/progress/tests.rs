//! Every parser against the real tools' captures in `tests/fixtures/captures/`
//! (copies of `shared/reference/captures/`).

use super::*;

fn capture(names: &[&str]) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/captures/");
    names
        .iter()
        .flat_map(|n| std::fs::read(format!("{dir}{n}")).unwrap_or_else(|e| panic!("{n}: {e}")))
        .collect()
}

fn events(tool: Tool, names: &[&str]) -> Vec<Event> {
    parse_bytes(tool, &capture(names))
}

fn progress(events: &[Event]) -> Vec<&Progress> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Progress(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn errors(events: &[Event]) -> Vec<(ErrorKind, Option<u16>, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Error {
                kind,
                code,
                message,
            } => Some((*kind, *code, message.as_str())),
            _ => None,
        })
        .collect()
}

fn has_complete(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::Complete { .. }))
}

#[test]
fn civitdl_success_goes_images_then_model_to_100_percent() {
    // Arrange / Act
    let ev = events(Tool::Civitdl, &["civ_ok_notty.out", "civ_ok_notty.err"]);
    // Assert
    let p = progress(&ev);
    assert_eq!(p.first().unwrap().stage, Some(Stage::Images));
    let last = p.last().unwrap();
    assert_eq!(last.stage, Some(Stage::Model));
    assert_eq!(last.percent, Some(100.0));
    assert_eq!(last.downloaded.as_deref(), Some("3.00M"));
    assert_eq!(last.total_bytes, Some(3_000_000));
    assert_eq!(last.speed.as_deref(), Some("1.01MiB/s"));
    assert_eq!(last.name.as_deref(), Some("Detail Tweaker LoRA"));
    assert!(ev.contains(&Event::Complete {
        stage: Stage::Model,
        name: Some("Detail Tweaker LoRA".into()),
        filename: None,
        size: None
    }));
    assert!(errors(&ev).is_empty());
    for tty in ["civ_ok_tty.tty", "civ_ok_tty_4671.tty"] {
        let ev = events(Tool::Civitdl, &[tty]);
        assert_eq!(progress(&ev).last().unwrap().percent, Some(100.0), "{tty}");
        assert!(has_complete(&ev), "{tty}");
    }
}

#[test]
fn civitdl_404_is_an_api_error_retried_then_given_up_though_exit_is_0() {
    let ev = events(Tool::Civitdl, &["civ_404.out", "civ_404.err"]);
    let errs = errors(&ev);
    assert_eq!(errs.len(), 4);
    assert_eq!(errs[0].0, ErrorKind::Api);
    assert_eq!(errs[0].1, Some(404));
    assert!(errs[0]
        .2
        .starts_with("APIException (API Status Code 404): Downloading metadata"));
    let retries: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { attempt } => *attempt,
            _ => None,
        })
        .collect();
    assert_eq!(retries, [2, 3, 4]);
    assert!(
        matches!(ev.last(), Some(Event::Error { .. }))
            || ev.iter().any(
                |e| matches!(e, Event::GaveUp { message } if message.starts_with("Max retry of 3"))
            )
    );
    assert!(!has_complete(&ev));
    // the tty capture interleaves stdout and stderr; same verdict
    let ev = events(Tool::Civitdl, &["civ_404_tty.tty"]);
    assert_eq!(errors(&ev).len(), 2);
    assert!(ev.iter().any(|e| matches!(e, Event::GaveUp { .. })));
}

#[test]
fn civitdl_network_and_input_errors_are_classified() {
    let cases = [
        ("civ_dns", ErrorKind::Dns),
        ("civ_refused", ErrorKind::Refused),
        ("civ_401", ErrorKind::Api),
        ("civ_badsrc", ErrorKind::Api),
        ("civ_nocolor_404", ErrorKind::Api),
        ("civ_noargs", ErrorKind::Usage),
    ];
    for (name, kind) in cases {
        let ev = events(
            Tool::Civitdl,
            &[&format!("{name}.out"), &format!("{name}.err")],
        );
        let errs = errors(&ev);
        assert!(!errs.is_empty(), "{name}: no error in {ev:?}");
        assert_eq!(errs[0].0, kind, "{name}");
    }
    let ev = events(Tool::Civitdl, &["civ_badsrc.err"]);
    assert_eq!(
        errors(&ev)[0].2,
        "InputException (Bad Inputs): Bad source provided: foo"
    );
}

#[test]
fn wget_dot_and_bar_modes_reach_100_percent_and_saved() {
    for (name, first_pct) in [
        ("wget_dot_ok.err", 1.0),
        ("wget_bar_ok.tty", 0.0),
        ("wget_barforce_notty.err", 0.0),
        ("wget_qsp_notty.err", 1.0),
        ("wget_qsp_tty.tty", 0.0),
        ("wget_bar_eta.tty", 0.0),
        ("wget_noscroll.tty", 0.0),
    ] {
        let ev = events(Tool::Wget, &[name]);
        let p = progress(&ev);
        assert_eq!(p.first().unwrap().percent, Some(first_pct), "{name}");
        assert_eq!(p.last().unwrap().percent, Some(100.0), "{name}");
        assert!(errors(&ev).is_empty(), "{name}");
    }
    let ev = events(Tool::Wget, &["wget_dot_ok.err"]);
    assert_eq!(
        ev[0],
        Event::Connecting {
            host: "localhost:8765".into()
        }
    );
    assert_eq!(
        ev[1],
        Event::HttpResponse {
            code: 200,
            text: "OK".into()
        }
    );
    let last = *progress(&ev).last().unwrap();
    assert_eq!(last.downloaded_bytes, Some(3_000_000));
    assert_eq!(last.filename.as_deref(), Some("add_detail.safetensors"));
    assert_eq!(
        ev.last(),
        Some(&Event::Complete {
            stage: Stage::Download,
            name: None,
            filename: Some("add_detail.safetensors".into()),
            size: Some(3_000_000)
        })
    );
    // the bar's ETA and final elapsed time
    let ev = events(Tool::Wget, &["wget_bar_eta.tty"]);
    let p = progress(&ev);
    assert!(p.iter().any(|p| p.eta.as_deref() == Some("2s")));
    assert_eq!(p.last().unwrap().elapsed.as_deref(), Some("8.0s"));
    // giga dots: 32 dots of 1 MiB, not 64 KiB
    let ev = events(Tool::Wget, &["wget_giga.err"]);
    assert_eq!(progress(&ev)[0].downloaded_bytes, Some(32 << 20));
}

#[test]
fn wget_failures_carry_readable_messages() {
    let cases: [(&str, ErrorKind, Option<u16>, &str); 7] = [
        (
            "wget_404",
            ErrorKind::Http,
            Some(404),
            "wget: ERROR 404: Not Found",
        ),
        (
            "wget_403",
            ErrorKind::Http,
            Some(403),
            "wget: ERROR 403: Forbidden",
        ),
        (
            "wget_500",
            ErrorKind::Http,
            Some(500),
            "wget: ERROR 500: Internal Server Error",
        ),
        (
            "wget_401",
            ErrorKind::Http,
            Some(401),
            "wget: ERROR 401: Unauthorized (Username/Password Authentication Failed)",
        ),
        (
            "wget_dns",
            ErrorKind::Dns,
            None,
            "wget: unable to resolve host address ‘civitai-nonexistent.invalid’",
        ),
        (
            "wget_refused",
            ErrorKind::Refused,
            None,
            "wget: connecting to localhost:1 failed: Connection refused",
        ),
        (
            "wget_badopt",
            ErrorKind::Usage,
            None,
            "wget: unrecognized option '--foo'",
        ),
    ];
    for (name, kind, code, message) in cases {
        let ev = events(Tool::Wget, &[&format!("{name}.err")]);
        assert_eq!(errors(&ev), [(kind, code, message)], "{name}");
    }
}

#[test]
fn wget_read_timeouts_retry_then_give_up_and_drops_resume() {
    let ev = events(Tool::Wget, &["wget_readtimeout.err"]);
    let errs = errors(&ev);
    assert_eq!(errs.len(), 3);
    assert_eq!(errs[0].0, ErrorKind::Read);
    assert_eq!(
        errs[0].2,
        "wget: read error at byte 114688/300000 (Connection timed out)"
    );
    assert!(ev.contains(&Event::Retrying { attempt: Some(3) }));
    assert!(matches!(ev.last(), Some(Event::GaveUp { .. })));
    assert_eq!(
        progress(&ev).last().unwrap().downloaded_bytes,
        Some(114_688)
    );

    let ev = events(Tool::Wget, &["wget_drop_resume.err"]);
    assert_eq!(errors(&ev)[0].2, "wget: connection closed at byte 114688");
    assert!(ev.contains(&Event::Retrying { attempt: Some(2) }));
    assert!(has_complete(&ev));
    assert_eq!(progress(&ev).last().unwrap().percent, Some(100.0));
}

#[test]
fn curl_meter_bar_and_errors() {
    let ev = events(Tool::Curl, &["curl_meter_notty.err"]);
    let p = progress(&ev);
    assert_eq!(p[1].percent, Some(15.0));
    assert_eq!(p[1].downloaded.as_deref(), Some("1840k"));
    assert_eq!(p[1].total.as_deref(), Some("11.4M"));
    assert_eq!(p[1].eta.as_deref(), Some("0:00:04"));
    assert_eq!(p.last().unwrap().percent, Some(100.0));
    let ev = events(Tool::Curl, &["curl_bar_notty.err"]);
    assert_eq!(progress(&ev)[0].percent, Some(5.2));
    assert_eq!(progress(&ev).last().unwrap().percent, Some(100.0));
    let cases = [
        ("curl_404_f.err", ErrorKind::Http, Some(404)),
        ("curl_dns.err", ErrorKind::Dns, None),
        ("curl_refused.err", ErrorKind::Refused, None),
        ("curl_timeout.err", ErrorKind::Timeout, None),
        ("curl_partial.err", ErrorKind::Read, None),
    ];
    for (name, kind, code) in cases {
        let ev = events(Tool::Curl, &[name]);
        let errs = errors(&ev);
        assert_eq!(errs.len(), 1, "{name}");
        assert_eq!((errs[0].0, errs[0].1), (kind, code), "{name}");
        assert!(errs[0].2.starts_with("curl: ("), "{name}");
    }
    // the DNS message is glued to the meter row: both are seen
    let ev = events(Tool::Curl, &["curl_dns.err"]);
    assert_eq!(
        errors(&ev)[0].2,
        "curl: (6) Could not resolve host: civitai.invalid"
    );
}

#[test]
fn hf_bars_completion_and_hub_errors() {
    let ev = events(Tool::Hf, &["hf_cli_tty.tty"]);
    let p = progress(&ev);
    assert_eq!(p[0].percent, Some(0.0));
    assert_eq!(p[0].filename.as_deref(), Some("model.safetensors"));
    assert_eq!(p.last().unwrap().percent, Some(100.0));
    assert_eq!(p.last().unwrap().total_bytes, Some(20_000_000));
    assert!(has_complete(&ev));
    let ev = events(Tool::Hf, &["hf2_tty.tty"]);
    assert!(ev.contains(&Event::Complete {
        stage: Stage::Download,
        name: None,
        filename: Some("/workspace/ComfyUI/models/hf2/model.safetensors".into()),
        size: None
    }));
    assert!(has_complete(&events(
        Tool::Hf,
        &["hf_cli_notty.err", "hf_cli_notty.out"]
    )));
    let cases = [
        (
            "hf_404repo.err",
            Some(404),
            "RepositoryNotFoundError: Repository Not Found for url:",
        ),
        (
            "hf_gated.err",
            Some(401),
            "GatedRepoError: Cannot access gated repo",
        ),
        (
            "hf_noentry.err",
            Some(404),
            "EntryNotFoundError: Entry Not Found for url:",
        ),
        (
            "hf2_404.err",
            Some(404),
            "hf: Model 'missing/model' not found.",
        ),
    ];
    for (name, code, start) in cases {
        let ev = events(Tool::Hf, &[name]);
        let errs = errors(&ev);
        assert_eq!(errs.len(), 1, "{name}: {errs:?}");
        assert_eq!((errs[0].0, errs[0].1), (ErrorKind::Http, code), "{name}");
        assert!(errs[0].2.starts_with(start), "{name}: {}", errs[0].2);
    }
}

#[test]
fn git_phases_and_fatal_errors() {
    for name in ["git_tty.tty", "git_notty_progress.err"] {
        let ev = events(Tool::Git, &[name]);
        assert_eq!(
            ev[0],
            Event::StageStart {
                stage: Stage::Download,
                name: Some(
                    name.strip_suffix(".tty")
                        .map_or("wget-src3", |_| "wget-src")
                        .into()
                )
            }
        );
        let p = progress(&ev);
        assert_eq!(p[0].name.as_deref(), Some("Counting objects"));
        let recv = p
            .iter()
            .rfind(|p| p.name.as_deref() == Some("Receiving objects"))
            .unwrap();
        assert!(
            recv.downloaded.as_deref().unwrap().ends_with(" MiB"),
            "{recv:?}"
        );
        assert!(
            recv.speed.as_deref().unwrap().ends_with(" MiB/s"),
            "{recv:?}"
        );
        let last = p.last().unwrap();
        assert_eq!(
            (last.name.as_deref(), last.percent),
            (Some("Resolving deltas"), Some(100.0))
        );
    }
    let cases = [
        ("git_404.err", ErrorKind::Http, Some(404)),
        ("git_dns.err", ErrorKind::Dns, None),
        ("git_refused.err", ErrorKind::Refused, None),
        ("git_exists.err", ErrorKind::Other, None),
    ];
    for (name, kind, code) in cases {
        let errs = errors(&events(Tool::Git, &[name]))
            .into_iter()
            .map(|e| (e.0, e.1))
            .collect::<Vec<_>>();
        assert_eq!(errs, [(kind, code)], "{name}");
    }
}

#[test]
fn aria2c_readouts_completion_and_error_codes() {
    for name in ["aria_notty.out", "aria_tty.tty"] {
        let ev = events(Tool::Aria2c, &[name]);
        let p = progress(&ev);
        assert_eq!(p[0].percent, Some(49.0), "{name}");
        assert!(has_complete(&ev), "{name}");
        assert!(errors(&ev).is_empty(), "{name}");
    }
    let ev = events(Tool::Aria2c, &["aria_notty.out"]);
    assert_eq!(progress(&ev)[0].eta.as_deref(), Some("1s"));
    assert_eq!(progress(&ev)[0].speed.as_deref(), Some("2.8MiB/s"));
    let cases = [
        (
            "aria_404.out",
            ErrorKind::Http,
            Some(404),
            "aria2c: Resource not found",
        ),
        (
            "aria_401.out",
            ErrorKind::Http,
            Some(401),
            "aria2c: Authorization failed.",
        ),
        (
            "aria_dns.out",
            ErrorKind::Dns,
            None,
            "aria2c: Name resolution for civitai.invalid failed:Domain name not found",
        ),
        (
            "aria_refused.out",
            ErrorKind::Refused,
            None,
            "aria2c: Failed to establish connection, cause: Connection refused",
        ),
    ];
    for (name, kind, code, msg) in cases {
        assert_eq!(
            errors(&events(Tool::Aria2c, &[name])),
            [(kind, code, msg)],
            "{name}"
        );
    }
}

#[test]
fn the_parser_is_picked_from_the_command() {
    let cases = [
        (
            r#"export PATH="/venv/main/bin:$PATH" && cd /tmp && civitdl "https://civitai.com/models/1?modelVersionId=2" "$UI_HOME"/models/Lora --api-key K"#,
            Some(Tool::Civitdl),
        ),
        ("/venv/main/bin/civitdl --version", Some(Tool::Civitdl)),
        (
            r#"wget --progress=bar:force -P "$UI_HOME"/models/vae https://huggingface.co/a/b/resolve/main/c"#,
            Some(Tool::Wget),
        ),
        ("curl -fsSL -o x https://h/x", Some(Tool::Curl)),
        (
            "huggingface-cli download org/model f --local-dir d",
            Some(Tool::Hf),
        ),
        ("cd /tmp; hf download org/model", Some(Tool::Hf)),
        ("git clone https://github.com/a/b", Some(Tool::Git)),
        ("aria2c -x 4 URL", Some(Tool::Aria2c)),
        ("echo hi && whoami", None),
        ("cd /workspace/git && mkdir -p wget", None),
        (
            "HF_HUB_ENABLE_HF_TRANSFER=1 sudo -E timeout 600 hf download a/b",
            Some(Tool::Hf),
        ),
        ("ls | grep x; /usr/bin/aria2c -x4 URL", Some(Tool::Aria2c)),
    ];
    for (cmd, tool) in cases {
        assert_eq!(Tool::from_command(cmd), tool, "{cmd}");
    }
    // no tool named: detected from the output
    let mut p = parser_for_command("./download.sh");
    let mut out = Vec::new();
    let mut s = LineSplitter::new();
    s.push(&capture(&["wget_404.err"]), |l| p.parse_line(l, &mut out));
    assert_eq!(errors(&out)[0].2, "wget: ERROR 404: Not Found");
}

#[test]
fn auto_detection_follows_a_log_of_several_tools() {
    let log = capture(&[
        "civ_ok_notty.out",
        "wget_404.err",
        "curl_dns.err",
        "git_dns.err",
        "aria_404.out",
        "hf_cli_notty.err",
    ]);
    let mut stream = ProgressStream::new(Box::new(AutoParser::default()));
    let mut ev = Vec::new();
    stream.push(&log, &mut ev);
    stream.finish(&mut ev);
    let kinds: Vec<_> = errors(&ev).iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        kinds,
        [
            (ErrorKind::Http, Some(404)),
            (ErrorKind::Dns, None),
            (ErrorKind::Dns, None),
            (ErrorKind::Http, Some(404)),
        ]
    );
    let completes = ev
        .iter()
        .filter(|e| matches!(e, Event::Complete { .. }))
        .count();
    assert_eq!(completes, 2, "civitdl's and hf's");
}

#[test]
fn progress_json_uses_the_original_keys() {
    let ev = events(Tool::Civitdl, &["civ_ok_notty.out"]);
    let model = ev
        .iter()
        .find(|e| matches!(e, Event::Progress(p) if p.percent == Some(35.0)))
        .unwrap();
    assert_eq!(
        progress_json(model).unwrap(),
        serde_json::json!({
            "percent": 35, "speed": "1.04MiB/s", "downloaded": "1.05M", "total": "3.00M",
            "eta": "00:01", "stage": "model", "name": "Detail Tweaker LoRA"
        })
    );
    let done = ev
        .iter()
        .find(|e| matches!(e, Event::Complete { .. }))
        .unwrap();
    assert_eq!(
        progress_json(done).unwrap(),
        serde_json::json!({"percent": 100})
    );
    assert_eq!(progress_json(&Event::Retrying { attempt: None }), None);
    let curl = Event::Progress(Progress {
        percent: Some(5.5),
        ..Progress::default()
    });
    assert_eq!(
        progress_json(&curl).unwrap(),
        serde_json::json!({"percent": 5.5})
    );
}

#[test]
fn events_round_trip_through_json() {
    for name in ["civ_404.err", "wget_dot_ok.err"] {
        for e in events(Tool::Civitdl, &[name])
            .into_iter()
            .chain(events(Tool::Wget, &[name]))
        {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
        }
    }
}

#[test]
fn garbage_huge_lines_and_invalid_utf8_never_panic() {
    let mut junk = vec![b'#'; 1 << 20];
    junk.extend_from_slice(b"\xff\xfe\x1b[\r\n");
    junk.extend((0u32..200_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    for tool in Tool::ALL {
        let _ = parse_bytes(tool, &junk);
    }
    let mut auto = ProgressStream::new(Box::new(AutoParser::default()));
    let mut out = Vec::new();
    auto.push(&junk, &mut out);
    auto.finish(&mut out);
}
