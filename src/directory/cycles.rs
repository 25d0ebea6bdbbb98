//! Detection of group nesting cycles, iterative so that deep nesting cannot overflow the stack.

use std::collections::BTreeSet;

use super::model::{Directory, ObjectRef};

#[derive(Clone, Copy, PartialEq)]
enum State {
    New,
    OnPath,
    Done,
}

/// Returns the group cycles as object-id paths that end where they start, each once.
pub(super) fn find_cycles(directory: &Directory) -> Vec<Vec<String>> {
    let count = directory.groups().len();
    let mut state = vec![State::New; count];
    let mut found = BTreeSet::new();
    for root in 0..count {
        if state.get(root) == Some(&State::New) {
            walk(directory, root, &mut state, &mut found);
        }
    }
    found.into_iter().collect()
}

/// Depth-first walk from `root` with an explicit stack of (group, next member position).
fn walk(
    directory: &Directory,
    root: usize,
    state: &mut [State],
    found: &mut BTreeSet<Vec<String>>,
) {
    let mut path: Vec<(usize, usize)> = vec![(root, 0)];
    set(state, root, State::OnPath);
    while let Some(&mut (group, ref mut next)) = path.last_mut() {
        let members = directory.group(group).map(|g| g.members.as_slice()).unwrap_or(&[]);
        let Some(member) = members.get(*next) else {
            set(state, group, State::Done);
            path.pop();
            continue;
        };
        *next += 1;
        let Some(ObjectRef::Group(child)) = directory.by_object_id(member) else { continue };
        match state.get(child) {
            Some(State::New) => {
                set(state, child, State::OnPath);
                path.push((child, 0));
            }
            Some(State::OnPath) => {
                let start = path.iter().position(|(g, _)| *g == child).unwrap_or(0);
                let ids: Vec<usize> =
                    path.get(start..).unwrap_or(&[]).iter().map(|(g, _)| *g).collect();
                found.insert(canonical_cycle(directory, &ids));
            }
            _ => {}
        }
    }
}

fn set(state: &mut [State], group: usize, value: State) {
    if let Some(slot) = state.get_mut(group) {
        *slot = value;
    }
}

/// Rotates the cycle to start at its smallest object id and closes it.
fn canonical_cycle(directory: &Directory, groups: &[usize]) -> Vec<String> {
    let ids: Vec<String> =
        groups.iter().filter_map(|g| directory.group(*g)).map(|g| g.object_id.clone()).collect();
    let start = ids.iter().enumerate().min_by_key(|(_, id)| *id).map_or(0, |(i, _)| i);
    let mut cycle: Vec<String> = ids.iter().cycle().skip(start).take(ids.len()).cloned().collect();
    if let Some(first) = cycle.first().cloned() {
        cycle.push(first);
    }
    cycle
}
