//! Faults as data: rules ([`FaultRule`]) that bend a run, armed on an
//! instance ([`FaultSet`]), decided per invocation with the instance's
//! seeded RNG, so the same seed fails the same runs.

mod parse;
mod rule;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regex::Regex;
use serde::Serialize;

pub use parse::{parse_flag, parse_rules_file, parse_rules_str, RuleFormat};
pub use rule::{Depth, Fault, FaultRule, FaultRuleBuilder, Matcher, Odds, RuleError};

/// Why a rule or a rule file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// A rule file that does not parse; `line` is 1-based.
    #[error("{file}:{line}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// One rule that is not valid: `rule` names it (its name or spec).
    #[error("invalid fault rule: {}{reason}", prefix(rule))]
    Rule {
        /// The rule's name or spec, when known.
        rule: Option<String>,
        /// What is wrong with it.
        #[source]
        reason: RuleError,
    },
    /// An action name nobody knows.
    #[error("unknown fault action {name:?}; valid actions: {}", Fault::NAMES.join(", "))]
    UnknownAction {
        /// What was given.
        name: String,
    },
    /// No rule has this id.
    #[error("no fault rule with id {0:?}")]
    NotFound(String),
}

/// `"name: "` before a reason, when the rule has a name.
fn prefix(rule: &Option<String>) -> String {
    rule.as_deref()
        .map(|r| format!("{r}: "))
        .unwrap_or_default()
}

/// One invocation as rules see it.
#[derive(Clone, Debug, Default)]
pub struct Invocation<'a> {
    /// The program (tool depth), or none (session and connection depth).
    pub tool: Option<&'a str>,
    /// The whole command line (empty at connection depth).
    pub command: &'a str,
    /// The program's arguments (URLs are matched against host/path).
    pub args: &'a [String],
    /// The instance id.
    pub instance: &'a str,
    /// The SSH user (empty before authentication).
    pub user: &'a str,
}

/// A fault that fired: the rule's id and what it does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fired {
    /// The armed rule's id.
    pub id: String,
    /// Its action.
    pub fault: Fault,
}

/// An armed rule with its hit counts.
pub struct ArmedFault {
    id: String,
    rule: FaultRule,
    command: Option<Regex>,
    host: Option<Regex>,
    path: Option<Regex>,
    matched: AtomicU64,
    fired: AtomicU64,
}

/// A rule as listed: its id, the rule, and how often it matched and fired.
#[derive(Clone, Debug, Serialize)]
pub struct ArmedSnapshot {
    /// The id used to remove it.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// The rule.
    pub rule: FaultRule,
    /// Matching invocations so far.
    pub matched: u64,
    /// Times it fired.
    pub fired: u64,
}

impl ArmedSnapshot {
    /// What is wrong when the rule has an `expect` count it did not fire.
    pub fn unmet_expectation(&self) -> Option<String> {
        let expected = self.rule.expect?;
        (self.fired != expected).then(|| {
            format!(
                "fault rule {:?} ({}): expected to fire {expected} time(s), fired {} (matched {})",
                self.name, self.id, self.fired, self.matched
            )
        })
    }
}

impl ArmedFault {
    fn new(id: String, rule: FaultRule) -> Result<Self, FaultError> {
        rule.validate()
            .map_err(|reason| FaultError::Rule { rule: None, reason })?;
        // `validate` compiled these already; compiling keeps the result.
        let re = |field: &'static str, r: &Option<String>| {
            r.as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|source| FaultError::Rule {
                    rule: None,
                    reason: RuleError::Regex { field, source },
                })
        };
        Ok(ArmedFault {
            command: re("command", &rule.matcher.command)?,
            host: re("host", &rule.matcher.host)?,
            path: re("path", &rule.matcher.path)?,
            id,
            rule,
            matched: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        })
    }

    fn matches(&self, depth: Depth, inv: &Invocation<'_>) -> bool {
        if self.rule.action.depth() != depth {
            return false;
        }
        let m = &self.rule.matcher;
        if let Some(tool) = m.tool.as_deref().filter(|t| *t != "*") {
            let ok = match inv.tool {
                Some(name) => name.rsplit('/').next() == Some(tool),
                // Session depth: the command line runs that program somewhere.
                None => crate::cmdline::runs_program(inv.command, tool),
            };
            if !ok {
                return false;
            }
        }
        if m.instance.as_deref().is_some_and(|i| i != inv.instance) {
            return false;
        }
        if m.user
            .as_deref()
            .is_some_and(|u| !inv.user.is_empty() && u != inv.user)
        {
            return false;
        }
        if self
            .command
            .as_ref()
            .is_some_and(|re| !re.is_match(inv.command))
        {
            return false;
        }
        if self.host.is_some() || self.path.is_some() {
            let urls: Vec<(String, String)> = inv
                .args
                .iter()
                .chain(std::iter::once(&inv.command.to_string()))
                .flat_map(|a| url_parts(a))
                .collect();
            let host_ok = |h: &str| self.host.as_ref().is_none_or(|re| re.is_match(h));
            let path_ok = |p: &str| self.path.as_ref().is_none_or(|re| re.is_match(p));
            if !urls.iter().any(|(h, p)| host_ok(h) && path_ok(p)) {
                return false;
            }
        }
        true
    }

    fn snapshot(&self) -> ArmedSnapshot {
        ArmedSnapshot {
            id: self.id.clone(),
            name: self.rule.display_name(),
            rule: self.rule.clone(),
            matched: self.matched.load(Ordering::Relaxed),
            fired: self.fired.load(Ordering::Relaxed),
        }
    }
}

/// (host, path) of every URL in `text`.
fn url_parts(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter_map(|w| {
            let rest = w.split_once("://")?.1;
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            let host = authority.rsplit('@').next().unwrap_or(authority);
            let host = host.split(':').next().unwrap_or(host);
            Some((host.to_string(), path.to_string()))
        })
        .collect()
}

/// The rules armed on one instance, and the seeded RNG their odds use.
pub struct FaultSet {
    rules: RwLock<Vec<Arc<ArmedFault>>>,
    seed: u64,
    rng: Mutex<ChaCha8Rng>,
    next_id: AtomicU64,
}

/// The fault RNG's stream for an instance seed: a stream of its own, so
/// faults do not shift the tools' draws.
fn fault_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x6661_756c_7473)
}

impl FaultSet {
    /// An empty set drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        FaultSet {
            rules: RwLock::new(Vec::new()),
            seed,
            rng: Mutex::new(fault_rng(seed)),
            next_id: AtomicU64::new(1),
        }
    }

    /// Arms a rule; returns its id. An invalid rule changes nothing.
    pub fn arm(&self, rule: FaultRule) -> Result<String, FaultError> {
        let id = format!("f{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let armed = ArmedFault::new(id.clone(), rule)?;
        self.write().push(Arc::new(armed));
        Ok(id)
    }

    /// Arms every rule or none: one invalid rule refuses the whole batch.
    pub fn arm_all(&self, rules: Vec<FaultRule>) -> Result<Vec<String>, FaultError> {
        for r in &rules {
            r.validate().map_err(|reason| FaultError::Rule {
                rule: Some(r.display_name()),
                reason,
            })?;
        }
        rules.into_iter().map(|r| self.arm(r)).collect()
    }

    /// Removes one rule.
    pub fn disarm(&self, id: &str) -> Result<ArmedSnapshot, FaultError> {
        let mut rules = self.write();
        let pos = rules
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| FaultError::NotFound(id.to_string()))?;
        Ok(rules.remove(pos).snapshot())
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Back to the start: no rule, ids from `f1` again and the odds drawn
    /// from the seed's first draw, so a run after a reset repeats a run
    /// after start.
    pub fn reset(&self) {
        let mut rules = self.write();
        rules.clear();
        self.next_id.store(1, Ordering::Relaxed);
        if let Ok(mut rng) = self.rng.lock() {
            *rng = fault_rng(self.seed);
        }
    }

    /// The armed rules with their counts.
    pub fn list(&self) -> Vec<ArmedSnapshot> {
        self.read().iter().map(|r| r.snapshot()).collect()
    }

    /// Counts `inv` against every rule of `depth` and returns those that fire.
    pub fn decide(&self, depth: Depth, inv: &Invocation<'_>) -> Vec<Fired> {
        self.decide_where(depth, inv, |_| true)
    }

    /// [`FaultSet::decide`] for the rules whose action `acts_here` accepts
    /// (a service asks at each point only for the faults that act there,
    /// so a rule is not spent where it cannot act).
    pub fn decide_where(
        &self,
        depth: Depth,
        inv: &Invocation<'_>,
        acts_here: impl Fn(&Fault) -> bool,
    ) -> Vec<Fired> {
        let rules: Vec<Arc<ArmedFault>> = self.read().iter().cloned().collect();
        let mut fired = Vec::new();
        for rule in rules {
            if !acts_here(&rule.rule.action) || !rule.matches(depth, inv) {
                continue;
            }
            let n = rule.matched.fetch_add(1, Ordering::Relaxed) + 1;
            let odds = &rule.rule.odds;
            let after = odds.after.unwrap_or(0);
            if n <= after {
                continue;
            }
            if odds.every.is_some_and(|every| (n - after) % every != 0) {
                continue;
            }
            if odds
                .times
                .is_some_and(|times| rule.fired.load(Ordering::Relaxed) >= times)
            {
                continue;
            }
            if odds.probability < 1.0 {
                let draw: f64 = self.rng.lock().map(|mut r| r.gen()).unwrap_or(1.0);
                if draw >= odds.probability {
                    continue;
                }
            }
            rule.fired.fetch_add(1, Ordering::Relaxed);
            fired.push(Fired {
                id: rule.id.clone(),
                fault: rule.rule.action.clone(),
            });
        }
        fired
    }

    /// Rules whose `expect` count was not met, as a readable report.
    pub fn unmet_expectations(&self) -> Vec<String> {
        self.read()
            .iter()
            .filter_map(|r| r.snapshot().unmet_expectation())
            .collect()
    }

    /// The rule with this id, as it stands now.
    pub fn get(&self, id: &str) -> Option<ArmedSnapshot> {
        self.read()
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.snapshot())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<ArmedFault>>> {
        self.rules.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<ArmedFault>>> {
        self.rules.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a fault asks of the SSH session around a program.
#[derive(Debug, Default)]
pub struct SessionControl {
    disconnect: AtomicBool,
    notify: tokio::sync::Notify,
}

impl SessionControl {
    /// Asks the server to drop the connection now (no exit status).
    pub fn disconnect(&self) {
        self.disconnect.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether a disconnect was asked for.
    pub fn disconnect_requested(&self) -> bool {
        self.disconnect.load(Ordering::SeqCst)
    }

    /// Waits until a disconnect is asked for.
    pub async fn disconnected(&self) {
        loop {
            let notified = self.notify.notified();
            if self.disconnect_requested() {
                return;
            }
            notified.await;
        }
    }
}

/// The faults that fired for one program run, as the program reads them.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// What fired.
    pub fired: Vec<Fired>,
    /// The session the program runs in.
    pub session: Arc<SessionControl>,
}

impl FaultPlan {
    fn find<T>(&self, f: impl Fn(&Fault) -> Option<T>) -> Option<T> {
        self.fired.iter().find_map(|x| f(&x.fault))
    }
    /// An HTTP status the remote answers instead.
    pub fn http_status(&self) -> Option<u16> {
        self.find(|f| match f {
            Fault::Http { status } => Some(*status),
            _ => None,
        })
    }
    /// Where the remote drops the connection (percent).
    pub fn drop_at(&self) -> Option<u8> {
        self.find(|f| match f {
            Fault::DropAt { percent } => Some(*percent),
            _ => None,
        })
    }
    /// Where the remote stalls (percent) and for how long (None = forever).
    pub fn stall_at(&self) -> Option<(u8, Option<u64>)> {
        self.find(|f| match f {
            Fault::StallAt { percent, stall_ms } => Some((*percent, *stall_ms)),
            _ => None,
        })
    }
    /// A cap on the transfer rate.
    pub fn rate_cap(&self) -> Option<u64> {
        self.find(|f| match f {
            Fault::Slow { bytes_per_s } => Some(*bytes_per_s),
            _ => None,
        })
    }
    /// Whether names fail to resolve.
    pub fn dns_failure(&self) -> bool {
        self.find(|f| matches!(f, Fault::DnsFailure).then_some(()))
            .is_some()
    }
    /// Whether connections are refused.
    pub fn connection_refused(&self) -> bool {
        self.find(|f| matches!(f, Fault::ConnectionRefused).then_some(()))
            .is_some()
    }
    /// Where the disk fills up (percent).
    pub fn disk_full_at(&self) -> Option<u8> {
        self.find(|f| match f {
            Fault::DiskFull { percent } => Some(*percent),
            _ => None,
        })
    }
    /// Where the SSH connection drops (percent).
    pub fn disconnect_at(&self) -> Option<u8> {
        self.find(|f| match f {
            Fault::DisconnectAt { percent } => Some(*percent),
            _ => None,
        })
    }
    /// An exit status that replaces the program's.
    pub fn exit_code(&self) -> Option<i32> {
        self.find(|f| match f {
            Fault::ExitCode { code } => Some(*code),
            _ => None,
        })
    }
    /// Called by a transfer as it reaches `percent`: drops the SSH
    /// connection when a `disconnect_at` fault says so. Returns true when
    /// the program must stop now.
    pub fn at_progress(&self, percent: f64) -> bool {
        match self.disconnect_at() {
            Some(p) if percent >= f64::from(p) => {
                self.session.disconnect();
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv<'a>(tool: &'a str, command: &'a str) -> Invocation<'a> {
        Invocation {
            tool: Some(tool),
            command,
            args: &[],
            instance: "i1",
            user: "root",
        }
    }

    #[test]
    fn times_one_fails_the_first_run_and_lets_the_second_through() {
        let set = FaultSet::new(7);
        let mut rule = FaultRule::new(Fault::Http { status: 404 });
        rule.matcher.tool = Some("civitdl".into());
        rule.odds.times = Some(1);
        set.arm(rule).unwrap();
        assert_eq!(
            set.decide(Depth::Tool, &inv("civitdl", "civitdl 1")).len(),
            1
        );
        assert!(set
            .decide(Depth::Tool, &inv("civitdl", "civitdl 1"))
            .is_empty());
        assert!(set.decide(Depth::Tool, &inv("wget", "wget x")).is_empty());
    }

    #[test]
    fn seeded_odds_are_deterministic() {
        let run = |seed| {
            let set = FaultSet::new(seed);
            let mut rule = FaultRule::new(Fault::DropAt { percent: 50 });
            rule.odds.probability = 0.3;
            set.arm(rule).unwrap();
            (0..200)
                .map(|_| !set.decide(Depth::Tool, &inv("wget", "wget u")).is_empty())
                .collect::<Vec<bool>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let hits = run(1).iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "{hits}");
    }

    #[test]
    fn every_and_after_pick_runs_by_count() {
        let set = FaultSet::new(0);
        let mut rule = FaultRule::new(Fault::ExitCode { code: 3 });
        rule.odds.after = Some(2);
        rule.odds.every = Some(2);
        set.arm(rule).unwrap();
        let fired: Vec<bool> = (0..8)
            .map(|_| !set.decide(Depth::Tool, &inv("ls", "ls")).is_empty())
            .collect();
        assert_eq!(fired, [false, false, false, true, false, true, false, true]);
    }

    #[test]
    fn host_and_path_match_url_arguments() {
        let set = FaultSet::new(0);
        let mut rule = FaultRule::new(Fault::Http { status: 503 });
        rule.matcher.host = Some("^huggingface\\.co$".into());
        rule.matcher.path = Some("vae".into());
        set.arm(rule).unwrap();
        let args = vec!["https://huggingface.co/x/resolve/main/vae.safetensors".to_string()];
        let hit = Invocation {
            args: &args,
            ..inv("wget", "wget")
        };
        assert_eq!(set.decide(Depth::Tool, &hit).len(), 1);
        let other = vec!["https://civitai.com/api/download/models/1".to_string()];
        let miss = Invocation {
            args: &other,
            ..inv("wget", "wget")
        };
        assert!(set.decide(Depth::Tool, &miss).is_empty());
    }

    #[test]
    fn a_reset_repeats_ids_and_odds_from_the_start() {
        let set = FaultSet::new(9);
        let run = |set: &FaultSet| {
            let id = set
                .arm(
                    FaultRule::for_tool("wget")
                        .inject(Fault::Http { status: 500 })
                        .probability(0.5),
                )
                .unwrap();
            let fired: Vec<bool> = (0..32)
                .map(|_| !set.decide(Depth::Tool, &inv("wget", "wget x")).is_empty())
                .collect();
            (id, fired)
        };
        let first = run(&set);
        set.reset();
        assert!(set.list().is_empty());
        assert_eq!(run(&set), first);
    }

    #[test]
    fn an_invalid_rule_is_refused_and_arms_nothing() {
        let set = FaultSet::new(0);
        let bad = FaultRule::new(Fault::DropAt { percent: 150 });
        let good = FaultRule::new(Fault::Hang);
        assert!(set.arm_all(vec![good, bad]).is_err());
        assert!(set.list().is_empty());
    }
}
