//! Data ops (seed 000): duplicate groups and the dedup merge (pick the survivor, dry run, type
//! the phrase), past merges with Undo, force refresh of one record, and the schema migrations.
//! Hash warnings (seed 004): per entity type, how many records differ, worst first.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use steward_shared::api::Page;
use steward_shared::data::{
    Confirmed, DuplicateGroup, HashWarning, MergeReport, MergeRequest, MergeRow, MigrationStatus, RefreshReport,
};

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Loading};
use crate::pages::fmt::{short_id, when};
use crate::scope::use_scope;

#[component]
pub fn HashWarningsPage() -> impl IntoView {
    let scope = use_scope();
    let warnings = LocalResource::new(move || {
        scope.value.track();
        async move { api::get::<Page<HashWarning>>("/api/data/hash-warnings").await.map(|p| p.items) }
    });
    view! {
        <section class="card">
            <div class="card-head"><h2>"Hash warnings"</h2></div>
            <p class="muted card-body">"Each record carries a hash of its canonical content. The higher the share of distinct hashes, the better: a low share means many records repeat another's content — merge them in Data ops."</p>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || warnings.get().map(|r| match r {
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No records in this scope."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="table" data-testid="hash-warnings">
                            <thead><tr><th>"Entity type"</th><th class="num">"Records"</th><th class="num">"Distinct hashes"</th><th>"Distinct"</th><th class="num">"Duplicates"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|w| {
                                let pct = w.distinct_share * 100.0;
                                let bar = format!("width: {pct:.1}%");
                                let tone = if pct < 80.0 { "meter-fill bad" } else if pct < 98.0 { "meter-fill warn" } else { "meter-fill ok" };
                                let href = format!("/admin/data-ops?entity_type={}", w.entity_type);
                                view! {
                                    <tr>
                                        <td>{w.entity_type.clone()}</td>
                                        <td class="num">{w.records}</td>
                                        <td class="num">{w.distinct_hashes}</td>
                                        <td><div class="meter" title=format!("{pct:.1} %")><div class=tone style=bar></div></div>{format!(" {pct:.1} %")}</td>
                                        <td class="num">{w.duplicates}</td>
                                        <td>{(w.duplicates > 0).then(|| view! { <a href=href>"Duplicate groups →"</a> })}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn DataOpsPage() -> impl IntoView {
    let scope = use_scope();
    let query = use_query_map();
    let entity = RwSignal::new(query.get_untracked().get("entity_type").unwrap_or_default());
    let tick = RwSignal::new(0u32);
    let groups = LocalResource::new(move || {
        scope.value.track();
        tick.track();
        let e = entity.get();
        async move {
            api::get::<Page<DuplicateGroup>>(&format!(
                "/api/data/duplicates{}",
                api::query(&[("entity_type", Some(e))])
            ))
            .await
        }
    });
    let merges = LocalResource::new(move || {
        scope.value.track();
        tick.track();
        async move { api::get::<Page<MergeRow>>("/api/data/merges").await }
    });
    let migrations = LocalResource::new(|| async {
        api::get::<Page<MigrationStatus>>("/api/data/migrations").await.map(|p| p.items)
    });
    let tab = RwSignal::new("duplicates");

    // The merge being prepared: group, survivor, the dry run, the typed phrase.
    let group = RwSignal::new(None::<DuplicateGroup>);
    let survivor = RwSignal::new(None::<uuid::Uuid>);
    let plan = RwSignal::new(None::<MergeReport>);
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let request = move |dry_run: bool| -> Option<MergeRequest> {
        let g = group.get_untracked()?;
        let s = survivor.get_untracked()?;
        Some(MergeRequest {
            survivor_id: s,
            merged_ids: g.records.iter().map(|r| r.id).filter(|id| *id != s).collect(),
            dry_run,
            confirm: (!dry_run).then(|| typed.get_untracked()),
        })
    };
    let merge = move |dry_run: bool| {
        let Some(req) = request(dry_run) else { return };
        spawn_local(async move {
            match api::post::<_, MergeReport>("/api/data/merge", &req).await {
                Ok(r) if dry_run => {
                    error.set(None);
                    plan.set(Some(r));
                }
                Ok(r) => {
                    notice.set(Some(format!(
                        "Merged {} records; {} links moved. Undo it under Merges.",
                        r.merged_ids.len(),
                        r.moved.len()
                    )));
                    group.set(None);
                    plan.set(None);
                    tick.update(|t| *t += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let undo = move |m: MergeRow| {
        spawn_local(async move {
            let path = format!("/api/data/merges/{}/undo", m.id);
            let res = match api::post::<_, MergeReport>(&path, &Confirmed { dry_run: true, confirm: None }).await {
                Ok(p) => {
                    let typed = web_sys::window().and_then(|w| {
                        w.prompt_with_message(&format!("Type “{}” to undo this merge.", p.confirm_phrase))
                            .ok()
                            .flatten()
                    });
                    match typed {
                        Some(t) => api::post::<_, MergeReport>(&path, &Confirmed { dry_run: false, confirm: Some(t) })
                            .await
                            .map(Some),
                        None => Ok(None),
                    }
                }
                Err(e) => Err(e),
            };
            match res {
                Ok(Some(r)) => {
                    notice.set(Some(format!("Undone: {} records are live again.", r.merged_ids.len())));
                    tick.update(|t| *t += 1);
                }
                Ok(None) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Force refresh.
    let refresh_id = RwSignal::new(String::new());
    let refresh_plan = RwSignal::new(None::<RefreshReport>);
    let refresh_typed = RwSignal::new(String::new());
    let refresh = move |dry_run: bool| {
        let id = refresh_id.get_untracked().trim().to_owned();
        let body = Confirmed { dry_run, confirm: (!dry_run).then(|| refresh_typed.get_untracked()) };
        spawn_local(async move {
            match api::post::<_, RefreshReport>(&format!("/api/records/{id}/refresh"), &body).await {
                Ok(r) if dry_run => {
                    error.set(None);
                    refresh_plan.set(Some(r));
                }
                Ok(r) => {
                    notice.set(Some(format!(
                        "Refreshed {}: {}.",
                        r.record.external_id,
                        if r.changed.is_empty() {
                            "nothing had drifted".to_owned()
                        } else {
                            format!("{} recomputed", r.changed.join(", "))
                        }
                    )));
                    refresh_plan.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let tab_button = move |id: &'static str, label: &'static str| {
        view! {
            <button role="tab" class=move || if tab.get() == id { "tab active" } else { "tab" } aria-selected=move || (tab.get() == id).to_string() on:click=move |_| tab.set(id)>{label}</button>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Data ops"</h2>
                <div class="tabs" role="tablist">
                    {tab_button("duplicates", "Duplicates")}
                    {tab_button("merges", "Merges")}
                    {tab_button("refresh", "Force refresh")}
                    {tab_button("migrations", "Migrations")}
                </div>
            </div>
            <div class="card-body">
            <ErrorBanner error=Signal::derive(move || error.get())/>
            {move || notice.get().map(|n| view! { <div class="banner banner-ok" role="status" data-testid="data-ops-notice">{n}</div> })}
            {move || match tab.get() {
                "duplicates" => view! {
                    <div class="filters">
                        <label class="muted" for="dup-entity">"Entity type"</label>
                        <input id="dup-entity" placeholder="any" prop:value=move || entity.get() on:change=move |ev| entity.set(event_target_value(&ev))/>
                    </div>
                    <Suspense fallback=|| view! { <Loading/> }>
                        {move || groups.get().map(|r| match r {
                            Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                            Ok(p) if p.items.is_empty() => view! { <p class="empty">"No duplicate groups: every record's content is its own."</p> }.into_any(),
                            Ok(p) => view! {
                                <div class="table-wrap"><table class="table" data-testid="duplicate-groups">
                                    <thead><tr><th>"Customer"</th><th>"Entity"</th><th>"Hash"</th><th class="num">"Records"</th><th>"Oldest"</th><th></th></tr></thead>
                                    <tbody>{p.items.into_iter().map(|g| {
                                        let pick = g.clone();
                                        view! {
                                            <tr>
                                                <td>{g.customer_name.clone()}</td>
                                                <td>{g.entity_type.clone()}</td>
                                                <td class="mono">{g.content_hash.chars().take(12).collect::<String>()}</td>
                                                <td class="num">{g.count}</td>
                                                <td class="mono">{g.records.first().map(|r| r.external_id.clone())}</td>
                                                <td><button class="btn btn-small" on:click=move |_| {
                                                    survivor.set(pick.records.first().map(|r| r.id));
                                                    plan.set(None);
                                                    typed.set(String::new());
                                                    group.set(Some(pick.clone()));
                                                }>"Merge…"</button></td>
                                            </tr>
                                        }
                                    }).collect_view()}</tbody>
                                </table></div>
                            }.into_any(),
                        })}
                    </Suspense>
                    {move || group.get().map(|g| view! {
                        <div class="panel" data-testid="merge-panel">
                            <h3>{format!("Merge {} {} records", g.count, g.entity_type)}</h3>
                            <p class="muted">"Pick the survivor. The others stay, marked as merged into it, and every link from or to them moves to it."</p>
                            <div class="table-wrap"><table class="table">
                                <thead><tr><th>"Survivor"</th><th>"External id"</th><th>"Source"</th><th class="num">"Links"</th><th>"Updated"</th></tr></thead>
                                <tbody>{g.records.iter().map(|r| {
                                    let id = r.id;
                                    view! {
                                        <tr>
                                            <td><input type="radio" name="survivor" aria-label=format!("Keep {}", r.external_id) prop:checked=move || survivor.get() == Some(id) on:change=move |_| { survivor.set(Some(id)); plan.set(None); }/></td>
                                            <td class="mono">{r.external_id.clone()}</td>
                                            <td>{r.source.clone()}</td>
                                            <td class="num">{r.links}</td>
                                            <td>{when(Some(r.updated_at))}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table></div>
                            {move || plan.get().map(|p| view! {
                                <div class="dry-run" data-testid="merge-dry-run">
                                    <p><strong>{format!("Dry run: {} records merge, {} links move.", p.merged_ids.len(), p.moved.len())}</strong></p>
                                    <div class="field typed-confirm">
                                        <label for="merge-typed">"Type " <strong>{p.confirm_phrase.clone()}</strong> " to merge."</label>
                                        <input id="merge-typed" autocomplete="off" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
                                    </div>
                                </div>
                            })}
                            <div class="dialog-actions">
                                <button class="btn" on:click=move |_| group.set(None)>"Cancel"</button>
                                <button class="btn" data-testid="merge-dry-run-button" on:click=move |_| merge(true)>"Dry run"</button>
                                <button class="btn btn-danger" data-testid="merge-run" disabled=move || plan.get().is_none_or(|p| p.confirm_phrase != typed.get()) on:click=move |_| merge(false)>"Merge"</button>
                            </div>
                        </div>
                    })}
                }.into_any(),
                "merges" => view! {
                    <Suspense fallback=|| view! { <Loading/> }>
                        {move || merges.get().map(|r| match r {
                            Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                            Ok(p) if p.items.is_empty() => view! { <p class="empty">"No merges yet."</p> }.into_any(),
                            Ok(p) => view! {
                                <div class="table-wrap"><table class="table" data-testid="merges">
                                    <thead><tr><th>"When"</th><th>"By"</th><th>"Entity"</th><th>"Survivor"</th><th class="num">"Merged"</th><th class="num">"Links moved"</th><th></th></tr></thead>
                                    <tbody>{p.items.into_iter().map(|m| {
                                        let row = m.clone();
                                        view! {
                                            <tr>
                                                <td>{when(Some(m.merged_at))}</td>
                                                <td>{m.merged_by_name.clone().unwrap_or_default()}</td>
                                                <td>{m.entity_type.clone()}</td>
                                                <td>{short_id(m.survivor_id.to_string())}</td>
                                                <td class="num">{m.merged_ids.len()}</td>
                                                <td class="num">{m.links_moved}</td>
                                                <td>{if m.undone_at.is_some() { view! { <span class="badge">"Undone"</span> }.into_any() }
                                                    else if m.undoable { view! { <button class="btn btn-small" on:click=move |_| undo(row.clone())>"Undo"</button> }.into_any() }
                                                    else { view! { <span class="muted small">"Past the undo window"</span> }.into_any() }}</td>
                                            </tr>
                                        }
                                    }).collect_view()}</tbody>
                                </table></div>
                            }.into_any(),
                        })}
                    </Suspense>
                }.into_any(),
                "refresh" => view! {
                    <p class="muted">"Recompute one record's content hash and normalized fields, and invalidate the caches that hold it."</p>
                    <div class="filters">
                        <input aria-label="Record id" placeholder="Record id" class="mono" prop:value=move || refresh_id.get() on:input=move |ev| refresh_id.set(event_target_value(&ev))/>
                        <button class="btn" on:click=move |_| refresh(true)>"Dry run"</button>
                    </div>
                    {move || refresh_plan.get().map(|p| view! {
                        <div class="dry-run">
                            <p>{format!("{} ({}): {}", p.record.external_id, p.record.entity_type,
                                if p.changed.is_empty() { "its derived fields are current".to_owned() } else { format!("{} would change", p.changed.join(", ")) })}</p>
                            <div class="field typed-confirm">
                                <label for="refresh-typed">"Type " <strong>{p.confirm_phrase.clone()}</strong> " to refresh."</label>
                                <input id="refresh-typed" autocomplete="off" prop:value=move || refresh_typed.get() on:input=move |ev| refresh_typed.set(event_target_value(&ev))/>
                            </div>
                            <button class="btn btn-primary" disabled=move || refresh_plan.get().is_none_or(|p| p.confirm_phrase != refresh_typed.get()) on:click=move |_| refresh(false)>"Refresh"</button>
                        </div>
                    })}
                }.into_any(),
                _ => view! {
                    <Suspense fallback=|| view! { <Loading/> }>
                        {move || migrations.get().map(|r| match r {
                            Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap"><table class="table" data-testid="migrations">
                                    <thead><tr><th>"Migration"</th><th>"State"</th><th>"Applied"</th><th>"Checksum"</th></tr></thead>
                                    <tbody>{list.into_iter().map(|m| view! {
                                        <tr>
                                            <td class="mono">{m.version.clone()}</td>
                                            <td><span class=match m.state.as_str() { "applied" => "badge badge-ok", "changed" => "badge badge-warn", _ => "badge" }>{m.state.clone()}</span></td>
                                            <td>{when(m.applied_at)}</td>
                                            <td class="mono small" title=m.applied_checksum.clone().unwrap_or_default()>{m.checksum.chars().take(16).collect::<String>()}</td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table></div>
                            }.into_any(),
                        })}
                    </Suspense>
                }.into_any(),
            }}
            </div>
        </section>
    }
}
