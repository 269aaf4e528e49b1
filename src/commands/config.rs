//! `config`: the effective configuration and where each value came from.

use crate::cli::GlobalArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::SummaryFormat;
use crate::render::table::{Drawing, table_numeric};
use crate::settings::values::summary_format;
use crate::settings::{Environment, GlobalSettings, effective};

pub fn run(
    args: &GlobalArgs,
    env: &Environment,
    global: &GlobalSettings,
) -> Result<ExitCode, Error> {
    let format = summary_format(global.format, "config")?;
    let all = effective(args, env, global);
    let text = match format {
        SummaryFormat::Json => crate::render::to_json(&serde_json::json!({ "settings": all })),
        SummaryFormat::Text => {
            let rows = all
                .iter()
                .map(|e| vec![e.setting.to_string(), e.value.clone(), e.source.clone()])
                .collect();
            format!(
                "Effective configuration (flag > environment > settings file > default):\n{}",
                // Text only: no column is a number.
                table_numeric(
                    &["setting", "value", "source"],
                    rows,
                    Drawing::Boxes(global.fit()),
                    0..0
                )
            )
        }
    };
    print(&text)?;
    Ok(ExitCode::Healthy)
}
