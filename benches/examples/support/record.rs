//! The `--json PATH` record of the one-shot examples (`decision_floor`, `aggregators`): one JSON
//! object with the example's rows, the command line that produced them (with the environment
//! variables it reads) and the load average (`/proc/loadavg`) at start and end. `benches/report`
//! turns it into a table, a plot and the command that reproduces them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

/// Removes `--json PATH` (or `--json=PATH`) from `args` and returns PATH; exits with status 2
/// if the value is missing.
pub fn take_json_flag(args: &mut Vec<String>) -> Option<String> {
    let mut path = None;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--json" {
            if i + 1 >= args.len() {
                eprintln!("error: --json needs a path");
                std::process::exit(2);
            }
            path = Some(args.remove(i + 1));
            args.remove(i);
        } else if let Some(p) = args[i].strip_prefix("--json=") {
            path = Some(p.to_string());
            args.remove(i);
        } else {
            i += 1;
        }
    }
    path
}

/// The 1-, 5- and 15-minute load averages, or null where `/proc/loadavg` is unreadable.
fn load_average() -> Value {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse::<f64>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|v| v.len() == 3)
        .map_or(Value::Null, |v| json!(v))
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `arg` quoted for a POSIX shell where it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:+@%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// What is known at the start of a run.
pub struct RunRecord {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    load_start: Value,
    time_start: u64,
}

impl RunRecord {
    /// Takes the command line, the variables of `env_names` that are set, and the load average.
    pub fn start(env_names: &[&str]) -> Self {
        let env = env_names
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        RunRecord {
            argv: std::env::args().collect(),
            env,
            load_start: load_average(),
            time_start: unix_seconds(),
        }
    }

    /// Writes `{example, command, argv, args, env, load, unix_time, ..body}` to `path`; exits
    /// with status 1 if it cannot.
    pub fn write(&self, path: &str, example: &str, body: Map<String, Value>) {
        let command: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .chain(self.argv.iter().map(|a| shell_quote(a)))
            .collect();
        let mut out = Map::new();
        out.insert("example".into(), json!(example));
        out.insert("command".into(), json!(command.join(" ")));
        out.insert("argv".into(), json!(self.argv));
        out.insert("args".into(), json!(self.argv.get(1..).unwrap_or(&[])));
        out.insert(
            "env".into(),
            Value::Object(
                self.env
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect(),
            ),
        );
        out.insert(
            "load".into(),
            json!({ "start": self.load_start, "end": load_average() }),
        );
        out.insert(
            "unix_time".into(),
            json!({ "start": self.time_start, "end": unix_seconds() }),
        );
        out.extend(body);
        let text = serde_json::to_string_pretty(&Value::Object(out)).expect("JSON value");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: writing {path}: {e}");
            std::process::exit(1);
        }
    }
}
