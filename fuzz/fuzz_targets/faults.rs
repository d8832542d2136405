//! Fault rules as the user writes them: `--fail` short specs, rule files
//! (TOML and JSON), and `--limits` files and `--limit KEY=VALUE`.
//!
//! Input: one byte picking the syntax (`f` short spec, `t` TOML, `j` JSON,
//! `l` limits file, `=` one limit assignment; any other byte: by its value
//! modulo 5), then the text. Short specs may be several, one a line.
//!
//! Must hold: no panic; every rule a parser accepts is valid, arms, serves
//! decisions, and its JSON form parses back to a rule that arms too.

#![no_main]

use fakessh::faults::{
    parse_flag, parse_rules_str, Depth, FaultRule, FaultSet, Invocation, RuleFormat,
};
use fakessh::limits::Limits;
use libfuzzer_sys::fuzz_target;

fn check(rules: Vec<FaultRule>, text: &str) {
    let set = FaultSet::new(7);
    for rule in &rules {
        rule.validate().expect("an accepted rule is valid");
        let json = serde_json::to_string(&[rule]).expect("rule serializes");
        let back = parse_rules_str(&json, RuleFormat::Json, "roundtrip")
            .unwrap_or_else(|e| panic!("the JSON of an accepted rule is refused: {e}\n{json}"));
        assert_eq!(back.len(), 1);
        FaultSet::new(1)
            .arm(back[0].clone())
            .expect("the parsed-back rule arms");
        set.arm(rule.clone()).expect("an accepted rule arms");
        let _ = rule.display_name();
        let _ = rule.action.kind();
    }
    let args: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    for tool in [
        Some("wget"),
        Some("civitdl"),
        args.first().map(String::as_str),
        None,
    ] {
        for depth in [Depth::Tool, Depth::Session, Depth::Connection] {
            for _ in 0..3 {
                let inv = Invocation {
                    tool,
                    command: text,
                    args: &args,
                    instance: "127_0_0_1",
                    user: "root",
                };
                let _ = set.decide(depth, &inv);
            }
        }
    }
    let _ = set.unmet_expectations();
    let _ = set.list();
}

fuzz_target!(|data: &[u8]| {
    let [mode, text @ ..] = data else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let mode = match mode {
        b'f' => 0,
        b't' => 1,
        b'j' => 2,
        b'l' => 3,
        b'=' => 4,
        m => m % 5,
    };
    match mode {
        0 => {
            let rules: Vec<FaultRule> = text.lines().filter_map(|l| parse_flag(l).ok()).collect();
            check(rules, &text);
        }
        1 => {
            if let Ok(rules) = parse_rules_str(&text, RuleFormat::Toml, "rules.toml") {
                check(rules, &text);
            }
        }
        2 => {
            if let Ok(rules) = parse_rules_str(&text, RuleFormat::Json, "rules.json") {
                check(rules, &text);
            }
        }
        3 => {
            if let Ok(limits) = Limits::from_toml(&text) {
                let mut again = limits.clone();
                let _ = again.set("max_processes=8");
            }
        }
        _ => {
            let mut limits = Limits::default();
            for line in text.lines() {
                let _ = limits.set(line);
            }
        }
    }
});
