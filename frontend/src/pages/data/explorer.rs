//! Data explorer (seed 001 "Tables"): pick a table, filter, search, sort, choose columns, edit
//! a cell in place (Enter saves, Escape cancels), select rows for a batch edit or delete with a
//! dry run and a typed phrase, and see other people's changes arrive live.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};
use steward_shared::data::{
    BatchAction, BatchReport, BatchRequest, EditedRow, ExplorerCatalog, ExplorerPage, ExplorerQuery, ExplorerTable,
    Filter, FilterOp, RowEdit, SortOrder,
};

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Loading};
use crate::pages::fmt::when;
use crate::scope::use_scope;

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A typed value from what was typed into a cell or a filter, by the column's kind.
fn typed_value(kind: steward_shared::data::ColumnKind, text: &str) -> Result<Value, String> {
    use steward_shared::data::ColumnKind as K;
    match kind {
        K::Json => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}")),
        K::Integer => text.trim().parse::<i64>().map(Value::from).map_err(|_| "not a whole number".into()),
        _ if text.trim().is_empty() => Ok(Value::Null),
        _ => Ok(Value::String(text.trim().to_owned())),
    }
}

#[component]
pub fn ExplorerPage() -> impl IntoView {
    let scope = use_scope();
    let catalog = LocalResource::new(move || {
        scope.value.track();
        async move { api::get::<ExplorerCatalog>("/api/explorer/tables").await }
    });
    let table_name = RwSignal::new(String::from("records"));
    let filters = RwSignal::new(Vec::<Filter>::new());
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(String::from("id"));
    let order = RwSignal::new(SortOrder::Desc);
    let chosen = RwSignal::new(Vec::<String>::new());
    let rows = RwSignal::new(Vec::<Map<String, Value>>::new());
    let page_meta = RwSignal::new(None::<ExplorerPage>);
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let selected = RwSignal::new(Vec::<String>::new());
    let changes = RwSignal::new(0u32);
    let editing = RwSignal::new(None::<(String, String)>);
    let cell_error = RwSignal::new(None::<String>);

    let table = move || -> Option<ExplorerTable> {
        let name = table_name.get();
        catalog.get().and_then(|c| c.ok()).and_then(|c| c.tables.into_iter().find(|t| t.name == name))
    };
    let request = move |cursor: Option<String>| ExplorerQuery {
        filters: filters.get_untracked(),
        search: Some(search.get_untracked()).filter(|s| !s.trim().is_empty()),
        sort: Some(sort.get_untracked()),
        order: order.get_untracked(),
        columns: chosen.get_untracked(),
        limit: Some(50),
        cursor,
    };
    let load = move |more: bool| {
        let name = table_name.get_untracked();
        let cursor = if more { next.get_untracked() } else { None };
        let q = request(cursor);
        loading.set(true);
        spawn_local(async move {
            let res = api::post::<_, ExplorerPage>(&format!("/api/explorer/tables/{name}/query"), &q).await;
            loading.set(false);
            match res {
                Ok(page) => {
                    error.set(None);
                    next.set(page.next_cursor.clone());
                    if more {
                        rows.update(|r| r.extend(page.rows.clone()));
                    } else {
                        rows.set(page.rows.clone());
                        selected.set(Vec::new());
                        changes.set(0);
                    }
                    page_meta.set(Some(page));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Reload when the table, the scope or the query changes.
    Effect::new(move |_| {
        scope.value.track();
        table_name.track();
        filters.track();
        sort.track();
        order.track();
        chosen.track();
        load(false);
    });
    // Live: count the changes to this table while it is open.
    Effect::new(move |_| {
        scope.value.track();
        let name = table_name.get();
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let signal = controller.signal();
        spawn_local(async move {
            let _ = api::follow_events(&format!("/api/explorer/changes?table={name}"), &signal, move |kind, _| {
                if kind == "change" || kind == "lagged" {
                    changes.update(|n| *n += 1);
                }
            })
            .await;
        });
        on_cleanup(move || controller.abort());
    });

    let viewing = move || catalog.get().and_then(|c| c.ok()).and_then(|c| c.viewing_as);
    let read_only = move || viewing().is_some();

    // The filter being composed.
    let f_column = RwSignal::new(String::new());
    let f_op = RwSignal::new(String::from("eq"));
    let f_value = RwSignal::new(String::new());
    let add_filter = move || {
        let Some(t) = table() else { return };
        let Some(col) = t.columns.iter().find(|c| c.name == f_column.get_untracked()).cloned() else { return };
        let Some(op) = FilterOp::ALL.into_iter().find(|o| o.id() == f_op.get_untracked()) else { return };
        let raw = f_value.get_untracked();
        let value = if op.unary() {
            None
        } else if op == FilterOp::In {
            Some(Value::Array(raw.split(',').map(|v| Value::String(v.trim().to_owned())).collect()))
        } else if col.kind == steward_shared::data::ColumnKind::Integer {
            raw.trim().parse::<i64>().ok().map(Value::from)
        } else {
            Some(Value::String(raw))
        };
        filters.update(|f| f.push(Filter { column: col.name.clone(), op, value }));
        f_value.set(String::new());
    };

    let save_cell = move |row: Map<String, Value>, column: String, text: String| {
        let Some(t) = table() else { return };
        let Some(col) = t.columns.iter().find(|c| c.name == column).cloned() else { return };
        let value = match typed_value(col.kind, &text) {
            Ok(v) => v,
            Err(e) => {
                cell_error.set(Some(e));
                return;
            }
        };
        let id = row.get("id").map(cell_text).unwrap_or_default();
        let mut set = Map::new();
        set.insert(column.clone(), value);
        let mut expect = Map::new();
        expect.insert(column.clone(), row.get(&column).cloned().unwrap_or(Value::Null));
        let name = t.name.clone();
        spawn_local(async move {
            let res =
                api::patch::<_, EditedRow>(&format!("/api/explorer/tables/{name}/rows/{id}"), &RowEdit { set, expect })
                    .await;
            match res {
                Ok(edited) => {
                    cell_error.set(None);
                    editing.set(None);
                    rows.update(|rs| {
                        if let Some(r) = rs.iter_mut().find(|r| r.get("id").map(cell_text) == Some(id.clone())) {
                            for (k, v) in edited.row {
                                if r.contains_key(&k) {
                                    r.insert(k, v);
                                }
                            }
                        }
                    });
                }
                Err(e) => cell_error.set(Some(e.field(&format!("set.{column}")).unwrap_or_else(|| e.message()))),
            }
        });
    };

    // Batch.
    let batch_open = RwSignal::new(false);
    let batch_action = RwSignal::new(BatchAction::Delete);
    let batch_column = RwSignal::new(String::new());
    let batch_value = RwSignal::new(String::new());
    let batch_report = RwSignal::new(None::<BatchReport>);
    let batch_typed = RwSignal::new(String::new());
    let batch_error = RwSignal::new(None::<ApiError>);
    let batch_done = RwSignal::new(None::<String>);
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if batch_open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    let batch_request = move |dry_run: bool| -> Option<BatchRequest> {
        let t = table()?;
        let ids: Vec<uuid::Uuid> =
            selected.get_untracked().iter().filter_map(|s| uuid::Uuid::parse_str(s).ok()).collect();
        let set = match batch_action.get_untracked() {
            BatchAction::Delete => None,
            BatchAction::Edit => {
                let col = t.columns.iter().find(|c| c.name == batch_column.get_untracked())?;
                let mut m = Map::new();
                m.insert(col.name.clone(), typed_value(col.kind, &batch_value.get_untracked()).ok()?);
                Some(m)
            }
        };
        let (ids, selection) = if ids.is_empty() {
            (
                None,
                Some(steward_shared::data::Selection {
                    filters: filters.get_untracked(),
                    search: Some(search.get_untracked()).filter(|s| !s.trim().is_empty()),
                }),
            )
        } else {
            (Some(ids), None)
        };
        Some(BatchRequest {
            action: batch_action.get_untracked(),
            ids,
            selection,
            set,
            dry_run,
            confirm: (!dry_run).then(|| batch_typed.get_untracked()),
        })
    };
    let run_batch = move |dry_run: bool| {
        let Some(req) = batch_request(dry_run) else {
            batch_error.set(Some(ApiError::local("Pick a column", "Choose the column to set and its value.".into())));
            return;
        };
        let name = table_name.get_untracked();
        spawn_local(async move {
            match api::post::<_, BatchReport>(&format!("/api/explorer/tables/{name}/batch"), &req).await {
                Ok(report) => {
                    batch_error.set(None);
                    if dry_run {
                        batch_report.set(Some(report));
                    } else {
                        batch_done.set(Some(format!(
                            "{} {} rows; {} skipped.",
                            if report.confirm_phrase.starts_with("delete") { "Deleted" } else { "Edited" },
                            report.affected.len(),
                            report.skipped.len()
                        )));
                        batch_open.set(false);
                        load(false);
                    }
                }
                Err(e) => batch_error.set(Some(e)),
            }
        });
    };

    let shown_columns = move || page_meta.get().map(|p| p.columns).unwrap_or_default();
    let customers = move || page_meta.get().map(|p| p.customers).unwrap_or_default();

    view! {
        <section class="card explorer">
            <div class="card-head">
                <h2>"Data explorer"</h2>
                <div class="filters">
                    <select aria-label="Table" data-testid="explorer-table" on:change=move |ev| {
                        filters.set(Vec::new());
                        chosen.set(Vec::new());
                        sort.set("id".into());
                        table_name.set(event_target_value(&ev));
                    }>
                        {move || catalog.get().and_then(|c| c.ok()).map(|c| c.tables.into_iter().map(|t| {
                            let selected = t.name == table_name.get_untracked();
                            view! { <option value=t.name.clone() selected=selected>{t.label.clone()}</option> }
                        }).collect_view())}
                    </select>
                    <span class={move || if changes.get() > 0 { "badge badge-warn" } else { "badge badge-ok" }} data-testid="live-badge">
                        {move || match changes.get() { 0 => "Live".to_owned(), 1 => "1 new change".to_owned(), n => format!("{n} new changes") }}
                    </span>
                    {move || { changes.get() > 0 }.then(|| view! { <button class="btn btn-small" on:click=move |_| load(false)>"Reload"</button> })}
                </div>
            </div>
            <div class="card-body explorer-controls">
            {move || viewing().map(|v| view! {
                <div class="banner banner-warn" data-testid="explorer-viewing-as">
                    {format!("Viewing as {} ({}): every table shows exactly the rows they may see. Editing is off.", v.name, v.email)}
                </div>
            })}
            {move || table().map(|t| view! { <p class="muted small">{t.description.clone()}</p> })}
            <div class="filters explorer-toolbar">
                <input type="search" placeholder="Search" aria-label="Search" prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { load(false) }/>
                <select aria-label="Filter column" on:change=move |ev| f_column.set(event_target_value(&ev))>
                    <option value="">"Filter on…"</option>
                    {move || table().map(|t| t.columns.into_iter().filter(|c| !c.operators.is_empty()).map(|c| view! {
                        <option value=c.name.clone()>{c.label.clone()}</option>
                    }).collect_view())}
                </select>
                <select aria-label="Operator" on:change=move |ev| f_op.set(event_target_value(&ev))>
                    {move || {
                        let col = table().and_then(|t| t.columns.into_iter().find(|c| c.name == f_column.get()));
                        col.map(|c| c.operators.into_iter().map(|o| view! { <option value=o.id()>{o.label()}</option> }).collect_view())
                    }}
                </select>
                <input aria-label="Filter value" placeholder="value" prop:value=move || f_value.get()
                    on:input=move |ev| f_value.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { add_filter() }/>
                <button class="btn btn-small" on:click=move |_| add_filter()>"Add filter"</button>
                <select aria-label="Sort" on:change=move |ev| sort.set(event_target_value(&ev))>
                    {move || table().map(|t| t.columns.into_iter().filter(|c| c.sortable).map(|c| {
                        let is = c.name == sort.get_untracked();
                        view! { <option value=c.name.clone() selected=is>{format!("Sort: {}", c.label)}</option> }
                    }).collect_view())}
                </select>
                <button class="btn btn-small" aria-label="Sort order" on:click=move |_| order.update(|o| *o = if *o == SortOrder::Desc { SortOrder::Asc } else { SortOrder::Desc })>
                    {move || if order.get() == SortOrder::Desc { "↓ Newest" } else { "↑ Oldest" }}
                </button>
                <details class="column-chooser">
                    <summary class="btn btn-small">"Columns"</summary>
                    <div class="menu">
                        {move || table().map(|t| {
                            let defaults = t.default_columns.clone();
                            t.columns.into_iter().map(|c| {
                                let name = c.name.clone();
                                let on = {
                                    let (name, defaults) = (name.clone(), defaults.clone());
                                    move || {
                                        let chosen = chosen.get();
                                        if chosen.is_empty() { defaults.contains(&name) } else { chosen.contains(&name) }
                                    }
                                };
                                let toggle = {
                                    let (name, defaults) = (name.clone(), defaults.clone());
                                    move |_| chosen.update(|c| {
                                        if c.is_empty() { *c = defaults.clone(); }
                                        if let Some(i) = c.iter().position(|x| *x == name) { c.remove(i); } else { c.push(name.clone()); }
                                    })
                                };
                                view! { <label class="check"><input type="checkbox" prop:checked=on on:change=toggle/>{c.label.clone()}</label> }
                            }).collect_view()
                        })}
                    </div>
                </details>
            </div>
            <div class="chips">
                {move || filters.get().into_iter().enumerate().map(|(i, f)| view! {
                    <span class="chip">
                        {format!("{} {} {}", f.column, f.op.label(), f.value.as_ref().map(cell_text).unwrap_or_default())}
                        <button class="chip-x" aria-label="Remove filter" on:click=move |_| filters.update(|fs| { fs.remove(i); })>"×"</button>
                    </span>
                }).collect_view()}
            </div>
            {move || (!read_only()).then(|| view! {
                <div class="selection-bar">
                    <span class="muted">{move || match selected.get().len() {
                        0 => "No rows selected: a batch acts on every row the filters match.".to_owned(),
                        n => format!("{n} selected"),
                    }}</span>
                    <button class="btn btn-small" data-testid="batch-edit" on:click=move |_| {
                        batch_action.set(BatchAction::Edit); batch_report.set(None); batch_typed.set(String::new()); batch_open.set(true);
                    }>"Batch edit…"</button>
                    <button class="btn btn-small btn-danger" data-testid="batch-delete" disabled=move || !table().is_some_and(|t| t.deletable) on:click=move |_| {
                        batch_action.set(BatchAction::Delete); batch_report.set(None); batch_typed.set(String::new()); batch_open.set(true);
                    }>"Delete…"</button>
                    {move || batch_done.get().map(|m| view! { <span class="badge badge-ok" data-testid="batch-done">{m}</span> })}
                </div>
            })}
            <ErrorBanner error=Signal::derive(move || error.get())/>
            {move || cell_error.get().map(|e| view! { <div class="banner banner-error" role="alert" data-testid="cell-error">{e}</div> })}
            </div>
            <div class="table-wrap">
            <table class="table explorer-table" data-testid="explorer-rows">
                <thead><tr>
                    <th class="check-col"><input type="checkbox" aria-label="Select all" on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.set(if on { rows.get_untracked().iter().map(|r| r.get("id").map(cell_text).unwrap_or_default()).collect() } else { Vec::new() });
                    }/></th>
                    {move || shown_columns().into_iter().map(|c| {
                        let label = table().and_then(|t| t.columns.into_iter().find(|k| k.name == c)).map(|k| k.label).unwrap_or(c.clone());
                        view! { <th>{label}</th> }
                    }).collect_view()}
                </tr></thead>
                <tbody>
                    {move || {
                        let cols = shown_columns();
                        let t = table();
                        let names = customers();
                        rows.get().into_iter().map(|row| {
                            let id = row.get("id").map(cell_text).unwrap_or_default();
                            let check_id = id.clone();
                            let is_selected = { let id = id.clone(); move || selected.get().contains(&id) };
                            let cells = cols.iter().map(|c| {
                                let col = t.as_ref().and_then(|t| t.columns.iter().find(|k| k.name == *c).cloned());
                                let editable = col.as_ref().is_some_and(|k| k.editable) && !read_only();
                                let value = row.get(c).cloned().unwrap_or(Value::Null);
                                let mut text = cell_text(&value);
                                let kind = col.as_ref().map(|k| k.kind);
                                if col.as_ref().is_some_and(|k| k.references.as_deref() == Some("customers")) {
                                    if let Some(n) = names.get(&text) { text = n.clone(); }
                                } else if kind == Some(steward_shared::data::ColumnKind::Uuid) && text.len() > 8 {
                                    // A v7 id's head is its time; the tail tells rows apart.
                                    text = format!("…{}", &text[text.len() - 8..]);
                                } else if kind == Some(steward_shared::data::ColumnKind::Timestamp) {
                                    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&text) {
                                        text = when(Some(t.with_timezone(&chrono::Utc)));
                                    }
                                }
                                let key = (id.clone(), c.clone());
                                let is_editing = { let key = key.clone(); move || editing.get().as_ref() == Some(&key) };
                                let (row2, c2, raw) = (row.clone(), c.clone(), cell_text(&value));
                                let title = raw.clone();
                                view! {
                                    <td class=if editable { "cell editable" } else { "cell" } title=title
                                        on:dblclick={ let key = key.clone(); move |_| if editable { cell_error.set(None); editing.set(Some(key.clone())) } }>
                                        {move || if is_editing() {
                                            let (row3, c3) = (row2.clone(), c2.clone());
                                            view! {
                                                <input class="cell-input" aria-label=format!("Edit {c2}") value=raw.clone() autofocus=true
                                                    on:keydown=move |ev| {
                                                        if ev.key() == "Enter" { save_cell(row3.clone(), c3.clone(), event_target_value(&ev)); }
                                                        if ev.key() == "Escape" { editing.set(None); cell_error.set(None); }
                                                    }/>
                                            }.into_any()
                                        } else {
                                            view! { <span class="cell-text">{text.chars().take(80).collect::<String>()}</span> }.into_any()
                                        }}
                                    </td>
                                }
                            }).collect_view();
                            view! {
                                <tr class:selected={ let id = id.clone(); move || selected.get().contains(&id) }>
                                    <td class="check-col"><input type="checkbox" aria-label="Select row" prop:checked=is_selected on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let id = check_id.clone();
                                        selected.update(|s| { s.retain(|x| *x != id); if on { s.push(id); } });
                                    }/></td>
                                    {cells}
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            </div>
            <div class="card-body">
            {move || loading.get().then(|| view! { <Loading/> })}
            {move || (!loading.get() && rows.get().is_empty() && error.get().is_none()).then(|| view! { <p class="empty">"No rows match in this scope."</p> })}
            {move || next.get().is_some().then(|| view! { <button class="btn" on:click=move |_| load(true)>"Load more"</button> })}
            <p class="muted small">"Double-click a cell to edit it; Enter saves, Escape cancels. A value someone changed since you loaded it is refused, not overwritten."</p>
            </div>

            <dialog node_ref=dialog class="dialog" on:close=move |_| batch_open.set(false) aria-labelledby="batch-title">
                <h2 id="batch-title">{move || match batch_action.get() { BatchAction::Edit => "Batch edit", BatchAction::Delete => "Delete rows" }}</h2>
                <p>{move || match selected.get().len() {
                    0 => "Acts on every row the current filters and search match.".to_owned(),
                    n => format!("Acts on the {n} selected rows."),
                }}</p>
                {move || (batch_action.get() == BatchAction::Edit).then(|| view! {
                    <div class="field">
                        <label for="batch-column">"Set column"</label>
                        <select id="batch-column" on:change=move |ev| batch_column.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            {move || table().map(|t| t.columns.into_iter().filter(|c| c.editable).map(|c| view! { <option value=c.name.clone()>{c.label.clone()}</option> }).collect_view())}
                        </select>
                    </div>
                    <div class="field">
                        <label for="batch-value">"To"</label>
                        <input id="batch-value" prop:value=move || batch_value.get() on:input=move |ev| batch_value.set(event_target_value(&ev))/>
                    </div>
                })}
                <ErrorBanner error=Signal::derive(move || batch_error.get())/>
                {move || batch_report.get().map(|r| view! {
                    <div class="dry-run" data-testid="dry-run">
                        <p><strong>{format!("Dry run: {} of {} rows would change.", r.affected.len(), r.matched)}</strong></p>
                        {(!r.skipped.is_empty()).then(|| view! {
                            <ul class="skipped">{r.skipped.iter().take(10).map(|s| view! { <li><code>{s.id.to_string()}</code>" — "{s.reason.clone()}</li> }).collect_view()}</ul>
                        })}
                        <div class="field typed-confirm">
                            <label for="batch-typed">"Type " <strong>{r.confirm_phrase.clone()}</strong> " to run it."</label>
                            <input id="batch-typed" autocomplete="off" prop:value=move || batch_typed.get() on:input=move |ev| batch_typed.set(event_target_value(&ev))/>
                        </div>
                    </div>
                })}
                <div class="dialog-actions">
                    <button class="btn" on:click=move |_| batch_open.set(false)>"Cancel"</button>
                    <button class="btn" data-testid="dry-run-button" on:click=move |_| run_batch(true)>"Dry run"</button>
                    <button class="btn btn-danger" data-testid="run-batch"
                        disabled=move || !batch_report.get().is_some_and(|r| r.confirm_phrase == batch_typed.get() && !r.affected.is_empty())
                        on:click=move |_| run_batch(false)>"Run"</button>
                </div>
            </dialog>
        </section>
    }
}
