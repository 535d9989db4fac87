//! A launcher for clusters of real `conclave node` processes on loopback, and a small blocking
//! HTTP client for their API: what `conclave testnet` and the node benchmark
//! (`benches/examples/node_bench.rs`) share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A blocking HTTP/JSON client for the node API (keep-alive connections, 5 s timeout).
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// A client.
    pub fn new() -> Self {
        Http {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(5))
                .build(),
        }
    }

    /// GET `path` on `addr`: `Ok(Some(json))` on 200, `Ok(None)` on 404, `Err` otherwise.
    pub fn get(&self, addr: &str, path: &str) -> Result<Option<Value>, String> {
        match self.agent.get(&format!("http://{addr}{path}")).call() {
            Ok(r) => serde_json::from_reader(r.into_reader())
                .map(Some)
                .map_err(|e| e.to_string()),
            Err(ureq::Error::Status(404, _)) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// GET `path` on `addr` as text (e.g. `/metrics`).
    pub fn get_text(&self, addr: &str, path: &str) -> Result<String, String> {
        self.agent
            .get(&format!("http://{addr}{path}"))
            .call()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|e| e.to_string())
    }

    /// POST a tx to `addr`; its hash (hex) on success.
    pub fn post_tx(&self, addr: &str, tx: &[u8]) -> Result<String, String> {
        let body = serde_json::json!({ "tx": hex::encode(tx) }).to_string();
        let r = self
            .agent
            .post(&format!("http://{addr}/v1/tx"))
            .set("content-type", "application/json")
            .send_string(&body)
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_reader(r.into_reader()).map_err(|e| e.to_string())?;
        v["hash"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "no hash".into())
    }

    /// POST a batch of txs to `addr` (`POST /v1/txs`); how many the node took (all of them on
    /// 200, the `accepted` count of a 503 "mempool full").
    pub fn post_txs(&self, addr: &str, txs: &[Vec<u8>]) -> Result<usize, String> {
        let hexes: Vec<String> = txs.iter().map(hex::encode).collect();
        let body = serde_json::json!({ "txs": hexes }).to_string();
        match self
            .agent
            .post(&format!("http://{addr}/v1/txs"))
            .set("content-type", "application/json")
            .send_string(&body)
        {
            Ok(_) => Ok(txs.len()),
            Err(ureq::Error::Status(503, r)) => {
                let v: Value =
                    serde_json::from_reader(r.into_reader()).map_err(|e| e.to_string())?;
                Ok(v["accepted"].as_u64().unwrap_or(0) as usize)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// The committed height `addr` reports, if it answers.
    pub fn height(&self, addr: &str) -> Option<u64> {
        self.get(addr, "/v1/status")
            .ok()
            .flatten()
            .and_then(|s| s["height"].as_u64())
    }
}

/// Node processes of one testnet directory (`DIR/node-<i>`), killed when dropped.
pub struct Cluster {
    dir: PathBuf,
    exe: PathBuf,
    children: BTreeMap<u32, Child>,
}

impl Cluster {
    /// Nodes of the testnet in `dir`, run as `exe node --home DIR/node-<i>`.
    pub fn new(dir: &Path, exe: &Path) -> Self {
        Cluster {
            dir: dir.to_path_buf(),
            exe: exe.to_path_buf(),
            children: BTreeMap::new(),
        }
    }

    /// Start node `i` (stderr appended to `DIR/node-<i>/node.log`).
    pub fn spawn(&mut self, i: u32) -> Result<(), String> {
        let home = self.dir.join(format!("node-{i}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("node.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new(&self.exe)
            .arg("node")
            .arg("--home")
            .arg(&home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start node {i}: {e}"))?;
        self.children.insert(i, child);
        Ok(())
    }

    /// SIGKILL node `i` and reap it.
    pub fn kill(&mut self, i: u32) {
        if let Some(mut c) = self.children.remove(&i) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM every node, wait (bounded), then SIGKILL stragglers. Returns the nodes that did
    /// not exit 0 after SIGTERM.
    pub fn stop(&mut self) -> Vec<u32> {
        for c in self.children.values() {
            let _ = kill_term(c.id());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut bad = Vec::new();
        for (i, c) in self.children.iter_mut() {
            loop {
                match c.try_wait() {
                    Ok(Some(status)) => {
                        if !status.success() {
                            bad.push(*i);
                        }
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = c.kill();
                        let _ = c.wait();
                        bad.push(*i);
                        break;
                    }
                }
            }
        }
        self.children.clear();
        bad
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.children.values_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn kill_term(pid: u32) -> std::io::Result<()> {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("kill failed"))
    }
}

/// How waiting for the DKG ended.
#[derive(Debug, PartialEq, Eq)]
pub enum DkgWait {
    /// Every node reports this group public key (hex).
    Done(String),
    /// Nodes report different keys.
    Disagree,
    /// Not every node had a key before the deadline.
    Timeout,
}

/// Poll every API until all report the same group public key, or `timeout`.
pub fn wait_for_dkg(http: &Http, apis: &[String], timeout: Duration) -> DkgWait {
    let deadline = Instant::now() + timeout;
    loop {
        let keys: Vec<Option<String>> = apis
            .iter()
            .map(|a| {
                http.get(a, "/v1/status")
                    .ok()
                    .flatten()
                    .and_then(|s| s["group_public_key"].as_str().map(str::to_string))
            })
            .collect();
        if keys.iter().all(Option::is_some) {
            let first = keys[0].clone().unwrap_or_default();
            if keys.iter().any(|k| k.as_deref() != Some(first.as_str())) {
                return DkgWait::Disagree;
            }
            return DkgWait::Done(first);
        }
        if Instant::now() > deadline {
            return DkgWait::Timeout;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `p`-th percentile (nearest rank) of sorted samples (0 if empty).
pub fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

/// Sum and count of each `conclave_time_seconds{part=...}` histogram in a `/metrics` text:
/// part → (seconds, observations).
pub fn time_breakdown(metrics: &str) -> BTreeMap<String, (f64, u64)> {
    let mut out: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for line in metrics.lines() {
        let (kind, rest) = if let Some(r) = line.strip_prefix("conclave_time_seconds_sum{") {
            (0, r)
        } else if let Some(r) = line.strip_prefix("conclave_time_seconds_count{") {
            (1, r)
        } else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let Some(part) = labels
            .split(',')
            .find_map(|l| l.strip_prefix("part=\""))
            .and_then(|p| p.strip_suffix('"'))
        else {
            continue;
        };
        let e = out.entry(part.to_string()).or_default();
        if kind == 0 {
            e.0 += value.trim().parse::<f64>().unwrap_or(0.0);
        } else {
            e.1 += value.trim().parse::<u64>().unwrap_or(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_reads_the_time_histograms() {
        let m = crate::metrics::Metrics::new();
        m.observe("store_commit", 0.002);
        m.observe("store_commit", 0.004);
        m.observe("sign", 0.001);
        let b = time_breakdown(&m.encode());
        let (s, c) = b["store_commit"];
        assert_eq!(c, 2);
        assert!((s - 0.006).abs() < 1e-9);
        assert_eq!(b["sign"].1, 1);
        assert_eq!(percentile(&[1, 2, 3, 4], 50), 2);
        assert_eq!(percentile(&[], 50), 0);
    }
}
