//! `tagq role …`: assign, list and remove role groups.

use std::io::{self, Write};
use std::path::Path;

use crate::catalog::RoleGroup;

use super::args::RoleCommand;
use super::output::{Table, write_listing};
use super::tag::{open_store, session};
use super::{EXIT_OK, Failure, Outcome};

/// Runs one `tagq role` command.
pub fn run(command: RoleCommand, dir: &Path, quiet: bool) -> Outcome {
    let store = open_store(dir)?;
    let session = session(&store)?;
    match command {
        RoleCommand::Assign { address, group } => {
            let group = parse_group(&group)?;
            let message = if session.assign_role(&address, group)? {
                format!("assigned {group} to {}", address.trim())
            } else {
                format!("{} already holds {group}", address.trim())
            };
            notice(quiet, &message);
            Ok(EXIT_OK)
        }
        RoleCommand::List { output } => {
            let roles = session.roles()?;
            let mut table =
                Table::new(&["actor", "role_group", "roles", "assigned", "assigned_by"]);
            table.push(vec![
                roles.owner().to_string(),
                RoleGroup::OrganizationManagement.name().to_string(),
                role_names(RoleGroup::OrganizationManagement),
                String::new(),
                "owner of the store".to_string(),
            ]);
            for assignment in roles.assignments() {
                table.push(vec![
                    assignment.actor.clone(),
                    assignment.group.name().to_string(),
                    role_names(assignment.group),
                    assignment.assigned.to_string(),
                    assignment.assigned_by.clone(),
                ]);
            }
            write_listing(&table, output)?;
            Ok(EXIT_OK)
        }
        RoleCommand::Remove { address, group } => {
            let group = group.as_deref().map(parse_group).transpose()?;
            let removed = session.remove_role(&address, group)?;
            let names: Vec<&str> = removed.iter().map(|g| g.name()).collect();
            notice(quiet, &format!("removed {} from {}", names.join(", "), address.trim()));
            Ok(EXIT_OK)
        }
    }
}

fn parse_group(text: &str) -> Result<RoleGroup, Failure> {
    RoleGroup::parse(text).map_err(|e| Failure::Message(e.to_string()))
}

fn role_names(group: RoleGroup) -> String {
    let mut names: Vec<&str> = group.roles().iter().map(|r| r.name()).collect();
    if group == RoleGroup::SecurityOperator {
        names.push("member changes of Tag Manager");
    }
    names.join(", ")
}

fn notice(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(io::stderr().lock(), "tagq: {message}");
    }
}
