//! `catalog show`: the catalog in use, as TOML.

use crate::catalog::DEFAULT_CATALOG;
use crate::cli::{CatalogArgs, CatalogTask};
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::settings::GlobalSettings;

pub fn run(args: &CatalogArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    match args.task {
        CatalogTask::Show => {
            crate::settings::values::table_only(global.format, "catalog show", "it prints TOML")?;
            // The file as written (its comments are the documentation), already parsed
            // and validated by the settings: what is printed is what is in use.
            let text = match &global.catalog_path {
                Some(path) => {
                    std::fs::read_to_string(path).map_err(Error::io("read the catalog", path))?
                }
                None => DEFAULT_CATALOG.to_string(),
            };
            print(&text)?;
            Ok(ExitCode::Healthy)
        }
    }
}
