//! civitdl's hash cache (`~/.cache/civitdl/hashes/`): which model file a
//! version id was saved to, so a second download copies instead.

use super::{home, Run};
use crate::tools::files;

impl Run<'_> {
    fn cache_file(&self, vid: u64) -> String {
        let home = home(self.tool.ctx);
        format!(
            "{home}/.cache/civitdl/hashes/{}/{}.csv",
            vid / 10000,
            vid / 100
        )
    }

    pub(super) fn cached_path(&self, vid: u64) -> Option<String> {
        let text = files::read(self.tool.ctx, &self.cache_file(vid)).ok()?;
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines()
            .filter_map(|l| {
                let mut it = l.split(',');
                (it.next()? == vid.to_string()).then(|| it.next().map(String::from))?
            })
            .next_back()
    }

    pub(super) fn remember(&self, vid: u64, path: &str, sha: &str, b3: &str) {
        let file = self.cache_file(vid);
        if let Some((dir, _)) = file.rsplit_once('/') {
            let _ = files::create_dir_all(self.tool.ctx, dir);
        }
        let mut text = files::read(self.tool.ctx, &file)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| "volume_id,model_filepath,SHA256,BLAKE3\n".into());
        let abs = files::absolute(self.tool.ctx, path);
        text.push_str(&format!("{vid},{abs},{sha},{b3}\n"));
        let _ = files::write(self.tool.ctx, &file, text.as_bytes());
    }
}
