//! `config`: the effective configuration and where each value came from.

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::SummaryFormat;
use crate::render::table::{Drawing, table};
use crate::settings::values::summary_format;
use crate::settings::{Environment, GlobalSettings, config_path, effective};

pub fn run(
    args: &GlobalArgs,
    env: &Environment,
    global: &GlobalSettings,
) -> Result<ExitCode, Error> {
    let format = summary_format(global.format, "config")?;
    // The same file the settings were resolved from (it was read and validated by them).
    let (path, required) = config_path(args, env);
    let config = Config::load(&path, required)?;
    let all = effective(args, env, &config, global);
    let text = match format {
        SummaryFormat::Json => crate::render::to_json(&serde_json::json!({ "settings": all })),
        SummaryFormat::Text => {
            let rows = all
                .iter()
                .map(|e| vec![e.setting.to_string(), e.value.clone(), e.source.clone()])
                .collect();
            format!(
                "Effective configuration (flag > environment > settings file > default):\n{}",
                table(
                    &["setting", "value", "source"],
                    rows,
                    Drawing::Boxes(global.fit()),
                    3
                )
            )
        }
    };
    print(&text)?;
    Ok(ExitCode::Healthy)
}
