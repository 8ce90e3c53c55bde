//! Applications (seed 004): the installed applications, installing one from an archive or a
//! Git branch, an application's versions, commits (Edit pins one), what it brings, activate,
//! deactivate and delete; Import errors worst first with their detail; the Packages table.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use steward_shared::api::Page;
use steward_shared::apps::{
    AppSource, ApplicationDetail, ApplicationRow, CommitRow, ImportErrorRow, InstallFromGit, InstallReport, PackageRow,
    PinCommit, Severity, SwitchVersion,
};
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Loading};
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::when;

fn short_sha(sha: &str) -> String {
    sha.chars().take(10).collect()
}

fn bytes(n: i64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / 1024.0 / 1024.0),
    }
}

fn status_badge(active: bool) -> impl IntoView {
    if active {
        view! { <span class="badge badge-ok">"active"</span> }
    } else {
        view! { <span class="badge">"inactive"</span> }
    }
}

/// A modal on the native `<dialog>` that opens while `open` is true (Escape closes it).
fn modal_effect(dialog: NodeRef<html::Dialog>, open: RwSignal<bool>) {
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
}

/// What an install did: counts, and the import errors with a link to them.
#[component]
fn InstallSummary(report: InstallReport) -> impl IntoView {
    let app = report.application.clone();
    let errors = report.errors.len();
    let href = format!("/admin/import-errors?application_id={}", app.id);
    view! {
        <div class=if errors == 0 { "banner banner-ok" } else { "banner banner-warn" } role="status" data-testid="install-report">
            <strong>{format!("{} {}", app.name, app.version.clone().unwrap_or_default())}</strong>
            {if report.created { " installed: " } else { " was installed already and is in use again: " }}
            {format!("{} models, {} flow templates, {} connector kinds, {} packages.", report.models, report.templates, report.connector_kinds, report.packages)}
            {(errors > 0).then(|| view! { " " <a href=href>{format!("{errors} import errors →")}</a> })}
        </div>
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let search = RwSignal::new(use_query_map().get_untracked().get("q").unwrap_or_default());
    let paged = Paged::new(
        move || api::query(&[("q", Some(search.get()))]),
        |q| async move { api::get::<Page<ApplicationRow>>(&format!("/api/applications{q}")).await },
    );
    let open = RwSignal::new(false);
    let report = RwSignal::new(None::<InstallReport>);
    let installed = Callback::new(move |r: InstallReport| {
        report.set(Some(r));
        paged.reload();
    });
    let row = move |a: ApplicationRow| {
        let href = format!("/admin/applications/{}", a.id);
        let source = match a.source {
            AppSource::Archive => "Archive".to_string(),
            AppSource::Git => format!("Git · {}", a.git_branch.clone().unwrap_or_default()),
        };
        let errors_href = format!("/admin/import-errors?application_id={}", a.id);
        view! {
            <tr>
                <td class="row-title"><a href=href>{a.name.clone()}</a><div class="muted small truncate" title=a.description.clone()>{a.description.clone()}</div></td>
                <td class="mono">{a.version.clone().unwrap_or_else(|| "—".into())}</td>
                <td>{source}{a.git_commit.as_deref().map(|c| view! { <span class="mono muted">{format!(" @ {}", short_sha(c))}</span> })}</td>
                <td>{status_badge(a.active)}</td>
                <td class="num">{if a.errors > 0 { view! { <a href=errors_href class="bad-text">{a.errors}</a> }.into_any() } else { view! { <span class="muted">"0"</span> }.into_any() }}</td>
                <td class="num">{a.flows}</td>
                <td>{when(Some(a.updated_at))}</td>
            </tr>
        }
    };
    view! {
        {move || report.get().map(|r| view! { <InstallSummary report=r/> })}
        <section class="card">
            <div class="card-head">
                <h2>"Applications"</h2>
                <div class="filters">
                    <input type="search" placeholder="Search name or description" aria-label="Search applications"
                        prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                    <button class="btn btn-primary" on:click=move |_| open.set(true) data-testid="install-open">"Install application"</button>
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="applications-table">
                    <thead><tr><th>"Name"</th><th>"Version"</th><th>"Source"</th><th>"Status"</th><th class="num">"Import errors"</th><th class="num">"Flows"</th><th>"Updated"</th></tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No applications installed yet. Install one from an archive or a Git repository."/>
        </section>
        <InstallDialog open=open on_done=installed app=None/>
    }
}

/// Install from an uploaded archive or a Git branch; with `app`, upload a new version of it.
#[component]
fn InstallDialog(open: RwSignal<bool>, on_done: Callback<InstallReport>, app: Option<ApplicationRow>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    modal_effect(dialog, open);
    let upload_only = app.is_some();
    let tab = RwSignal::new("archive");
    let file = NodeRef::<html::Input>::new();
    let url = RwSignal::new(String::new());
    let branch = RwSignal::new("main".to_string());
    let commit = RwSignal::new(String::new());
    let source_url = RwSignal::new(String::new());
    let transfer_token = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let target = app.as_ref().map(|a| format!("/api/applications/{}/archive", a.id));
    let submit = move |_| {
        error.set(None);
        let target = target.clone();
        if tab.get_untracked() == "archive" {
            let Some(blob) = file
                .get_untracked()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
                .map(|f| f.unchecked_into::<web_sys::Blob>())
            else {
                error.set(Some(ApiError::local("No archive", "Choose a .tar.gz bundle to upload.".into())));
                return;
            };
            busy.set(true);
            spawn_local(async move {
                let path = target.unwrap_or_else(|| "/api/applications/archive".into());
                match api::upload::<InstallReport>(&path, &blob).await {
                    Ok(r) => {
                        open.set(false);
                        on_done.run(r);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        } else if tab.get_untracked() == "transfer" {
            let body = steward_shared::apps::TransferFrom {
                source_url: source_url.get_untracked().trim().into(),
                token: transfer_token.get_untracked().trim().into(),
            };
            busy.set(true);
            spawn_local(async move {
                match api::post::<_, steward_shared::apps::TransferReport>("/api/applications/transfer", &body).await {
                    Ok(r) => {
                        open.set(false);
                        transfer_token.set(String::new());
                        // One report per application; the page shows each in turn, the last stays.
                        for i in r.installed {
                            on_done.run(i);
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        } else {
            let body = InstallFromGit {
                url: url.get_untracked().trim().into(),
                branch: branch.get_untracked().trim().into(),
                commit: Some(commit.get_untracked().trim().to_string()).filter(|c| !c.is_empty()),
            };
            busy.set(true);
            spawn_local(async move {
                match api::post::<_, InstallReport>("/api/applications/git", &body).await {
                    Ok(r) => {
                        open.set(false);
                        on_done.run(r);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let field_error = move |name: &'static str| {
        move || error.get().and_then(|e| e.field(name)).map(|m| view! { <p class="field-error">{m}</p> })
    };
    let title = match &app {
        Some(a) => format!("Upload a new version of {}", a.name),
        None => "Install an application".into(),
    };
    view! {
        <dialog node_ref=dialog class="dialog dialog-wide" on:close=move |_| open.set(false) aria-labelledby="install-title" data-testid="install-dialog">
            <h2 id="install-title">{title}</h2>
            {(!upload_only).then(|| view! {
                <div class="tabs" role="tablist">
                    <button role="tab" class=move || if tab.get() == "archive" { "tab active" } else { "tab" } on:click=move |_| tab.set("archive")>"Upload archive"</button>
                    <button role="tab" class=move || if tab.get() == "git" { "tab active" } else { "tab" } on:click=move |_| tab.set("git")>"From Git"</button>
                    <button role="tab" class=move || if tab.get() == "transfer" { "tab active" } else { "tab" } on:click=move |_| tab.set("transfer")>"Transfer"</button>
                </div>
            })}
            <ErrorBanner error=error.into()/>
            <div class="dialog-body" class:hidden=move || tab.get() != "archive">
                <p>"A .tar.gz with " <code>"steward.json"</code> " at its root, and " <code>"models/"</code> ", " <code>"flows/"</code> ", " <code>"connectors/"</code> ", " <code>"packages/"</code> ". At most 16 MiB."</p>
                <div class="field">
                    <label for="bundle-file">"Bundle"</label>
                    <input id="bundle-file" type="file" accept=".tar.gz,.tgz,application/gzip" node_ref=file data-testid="bundle-file"/>
                    {field_error("archive")}
                    {field_error("manifest")}
                    {field_error("manifest.name")}
                    {field_error("manifest.version")}
                </div>
            </div>
            <div class="dialog-body" class:hidden=move || tab.get() != "git">
                <div class="field">
                    <label for="git-url">"Repository URL"</label>
                    <input id="git-url" placeholder="https://git.example.com/team/app.git" prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                    {field_error("url")}
                </div>
                <div class="field-row">
                    <div class="field">
                        <label for="git-branch">"Branch"</label>
                        <input id="git-branch" prop:value=move || branch.get() on:input=move |ev| branch.set(event_target_value(&ev))/>
                        {field_error("branch")}
                    </div>
                    <div class="field">
                        <label for="git-commit">"Commit " <span class="muted">"(optional: the head when empty)"</span></label>
                        <input id="git-commit" class="mono" prop:value=move || commit.get() on:input=move |ev| commit.set(event_target_value(&ev))/>
                        {field_error("commit")}
                    </div>
                </div>
            </div>
            <div class="dialog-body" class:hidden=move || tab.get() != "transfer">
                <p>"Fetch applications from another Steward platform. On that platform, a super admin mints a transfer token in "
                    <strong>"Platform actions"</strong>"; it is good once and for minutes."</p>
                <div class="field">
                    <label for="transfer-url">"Source platform"</label>
                    <input id="transfer-url" placeholder="https://steward-a.example.com" prop:value=move || source_url.get() on:input=move |ev| source_url.set(event_target_value(&ev))/>
                    {field_error("source_url")}
                </div>
                <div class="field">
                    <label for="transfer-token">"Transfer token"</label>
                    <textarea id="transfer-token" class="mono" rows="3" prop:value=move || transfer_token.get() on:input=move |ev| transfer_token.set(event_target_value(&ev))></textarea>
                    {field_error("token")}
                </div>
            </div>
            <div class="dialog-actions">
                <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button class="btn btn-primary" disabled=move || busy.get() on:click=submit data-testid="install-submit">
                    {move || if busy.get() { "Installing…" } else { "Install" }}
                </button>
            </div>
        </dialog>
    }
}

#[component]
pub fn ApplicationDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        tick.track();
        let id = id();
        async move { api::get::<ApplicationDetail>(&format!("/api/applications/{id}")).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let report = RwSignal::new(None::<InstallReport>);
    let reload = move || tick.update(|t| *t += 1);
    let act = move |path: String| {
        spawn_local(async move {
            match api::post::<_, serde_json::Value>(&path, &serde_json::json!({})).await {
                Ok(v) => {
                    error.set(None);
                    if let Ok(r) = serde_json::from_value::<InstallReport>(v) {
                        report.set(Some(r));
                    }
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <p class="crumbs"><a href="/admin/applications">"Applications"</a> " / "</p>
        <ErrorBanner error=error.into()/>
        {move || report.get().map(|r| view! { <InstallSummary report=r/> })}
        <Suspense fallback=|| view! { <Loading/> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                Ok(d) => {
                    let a = d.application.clone();
                    let base = format!("/api/applications/{}", a.id);
                    view! { <DetailBody detail=d base=base act=Callback::new(move |p: String| act(p)) error=error report=report reload=Callback::new(move |_: ()| reload())/> }.into_any()
                }
            })}
        </Suspense>
    }
}

#[component]
fn DetailBody(
    detail: ApplicationDetail,
    base: String,
    act: Callback<String>,
    error: RwSignal<Option<ApiError>>,
    report: RwSignal<Option<InstallReport>>,
    reload: Callback<()>,
) -> impl IntoView {
    let a = detail.application.clone();
    let git = a.source == AppSource::Git;
    let upload_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let uploaded = Callback::new(move |r: InstallReport| {
        report.set(Some(r));
        reload.run(());
    });
    let toggle = {
        let base = base.clone();
        let active = a.active;
        move |_| act.run(format!("{base}/{}", if active { "deactivate" } else { "activate" }))
    };
    let update = {
        let base = base.clone();
        move |_| act.run(format!("{base}/update"))
    };
    let switch_to = {
        let base = base.clone();
        move |version_id: uuid::Uuid| {
            let path = format!("{base}/version");
            spawn_local(async move {
                match api::post::<_, ApplicationRow>(&path, &SwitchVersion { version_id }).await {
                    Ok(_) => reload.run(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let versions = detail.versions.clone();
    let source = match a.source {
        AppSource::Archive => "Uploaded archives".to_string(),
        AppSource::Git => {
            format!("{} · branch {}", a.git_url.clone().unwrap_or_default(), a.git_branch.clone().unwrap_or_default())
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2 data-testid="app-title">{a.name.clone()} " " <span class="mono muted">{a.version.clone().unwrap_or_default()}</span> " " {status_badge(a.active)}</h2>
                    <p class="muted small">{a.description.clone()}</p>
                </div>
                <div class="filters">
                    {git.then(|| view! { <button class="btn" on:click=update.clone()>"Update to branch head"</button> })}
                    {(!git).then(|| view! { <button class="btn" on:click=move |_| upload_open.set(true)>"Upload new version"</button> })}
                    <button class="btn" on:click=toggle data-testid="toggle-active">{if a.active { "Deactivate" } else { "Activate" }}</button>
                    <button class="btn btn-danger" on:click=move |_| delete_open.set(true) data-testid="delete-open">"Delete"</button>
                </div>
            </div>
            <dl class="facts card-body">
                <div><dt>"Source"</dt><dd class="truncate" title=source.clone()>{source.clone()}</dd></div>
                <div><dt>"Commit"</dt><dd class="mono">{a.git_commit.as_deref().map(short_sha).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Import errors"</dt><dd>{if a.errors > 0 { view! { <a href=format!("/admin/import-errors?application_id={}", a.id)>{a.errors}</a> }.into_any() } else { view! { "0" }.into_any() }}</dd></div>
                <div><dt>"Flows using it"</dt><dd>{a.flows}</dd></div>
                <div><dt>"Installed"</dt><dd>{when(Some(a.created_at))}</dd></div>
            </dl>
        </section>
        <div class="grid-2">
            <section class="card">
                <div class="card-head"><h3>"Models"</h3></div>
                {if detail.models.is_empty() { view! { <p class="empty">"No models."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table class="table"><thead><tr><th>"Entity type"</th><th>"Label"</th></tr></thead>
                    <tbody>{detail.models.iter().map(|m| view! { <tr><td class="mono">{m.name.clone()}</td><td>{m.label.clone()}</td></tr> }).collect_view()}</tbody></table></div>
                }.into_any() }}
            </section>
            <section class="card">
                <div class="card-head"><h3>"Package requirements"</h3></div>
                {if detail.requirements.is_empty() { view! { <p class="empty">"Requires no packages."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table class="table"><thead><tr><th>"Package"</th><th>"Range"</th><th>"Resolved"</th></tr></thead>
                    <tbody>{detail.requirements.iter().map(|r| view! { <tr>
                        <td class="mono">{r.package.clone()}</td><td class="mono">{r.range.clone()}</td>
                        <td>{match r.resolved.clone() { Some(v) => view! { <span class="mono">{v}</span> }.into_any(), None => view! { <span class="badge badge-bad">"unresolved"</span> }.into_any() }}</td>
                    </tr> }).collect_view()}</tbody></table></div>
                }.into_any() }}
            </section>
            <section class="card">
                <div class="card-head"><h3>"Flow templates"</h3></div>
                {if detail.templates.is_empty() { view! { <p class="empty">"No flow templates."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table class="table"><thead><tr><th>"Template"</th><th>"Works on"</th><th>"Steps"</th></tr></thead>
                    <tbody>{detail.templates.iter().map(|t| view! { <tr>
                        <td>{t.label.clone()}<div class="mono muted small">{t.name.clone()}</div></td><td class="mono">{t.entity_type.clone()}</td>
                        <td>{t.steps.iter().map(|s| view! { <span class="badge badge-info step">{s.clone()}</span> }).collect_view()}</td>
                    </tr> }).collect_view()}</tbody></table></div>
                }.into_any() }}
            </section>
            <section class="card">
                <div class="card-head"><h3>"Connector kinds"</h3></div>
                {if detail.connector_kinds.is_empty() { view! { <p class="empty">"No connector kinds."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table class="table"><thead><tr><th>"Kind"</th><th>"Health probe"</th></tr></thead>
                    <tbody>{detail.connector_kinds.iter().map(|k| view! { <tr><td>{k.label.clone()}<div class="mono muted small">{k.kind.clone()}</div></td><td class="mono">{k.probe.clone()}</td></tr> }).collect_view()}</tbody></table></div>
                }.into_any() }}
            </section>
        </div>
        <section class="card">
            <div class="card-head"><h3>"Versions"</h3></div>
            <div class="table-wrap">
                <table class="table" data-testid="versions-table">
                    <thead><tr><th>"Version"</th><th>"Commit"</th><th>"Digest"</th><th class="num">"Files"</th><th class="num">"Size"</th><th class="num">"Import errors"</th><th>"Installed"</th><th></th></tr></thead>
                    <tbody>{versions.into_iter().map(|v| {
                        let switch_to = switch_to.clone();
                        let vid = v.id;
                        view! { <tr class:current=v.current>
                            <td class="mono">{v.version.clone()}</td>
                            <td class="mono">{v.git_commit.as_deref().map(short_sha).unwrap_or_else(|| "—".into())}</td>
                            <td class="mono muted" title=v.digest.clone()>{v.digest.chars().take(12).collect::<String>()}</td>
                            <td class="num">{v.files}</td>
                            <td class="num">{bytes(v.bundle_bytes)}</td>
                            <td class="num">{v.errors}</td>
                            <td>{when(Some(v.installed_at))}</td>
                            <td class="actions">{if v.current { view! { <span class="badge badge-ok">"in use"</span> }.into_any() } else {
                                view! { <button class="btn btn-small" on:click=move |_| switch_to(vid)>"Use this version"</button> }.into_any()
                            }}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table>
            </div>
        </section>
        {git.then(|| view! { <Commits base=base.clone() done=uploaded/> })}
        <InstallDialog open=upload_open on_done=uploaded app=Some(a.clone())/>
        <DeleteDialog open=delete_open app=a.clone() error=error/>
    }
}

/// The branch's commits; Edit pins one.
#[component]
fn Commits(base: String, done: Callback<InstallReport>) -> impl IntoView {
    let list = base.clone();
    let paged = Paged::new(String::new, move |q| {
        let path = format!("{list}/commits{q}");
        async move { api::get::<Page<CommitRow>>(&path).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let base = StoredValue::new(base);
    let pin = move |sha: String| {
        let path = format!("{}/pin", base.get_value());
        spawn_local(async move {
            match api::post::<_, InstallReport>(&path, &PinCommit { commit: sha }).await {
                Ok(r) => done.run(r),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card">
            <div class="card-head"><h3>"Commits of the branch"</h3></div>
            <ErrorBanner error=error.into()/>
            <div class="table-wrap">
                <table class="table" data-testid="commits-table">
                    <thead><tr><th>"Commit"</th><th>"Message"</th><th>"Author"</th><th>"Date"</th><th>"Installed as"</th><th></th></tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(|c| {
                        let sha = c.sha.clone();
                        view! { <tr>
                            <td class="mono" title=c.sha.clone()>{short_sha(&c.sha)}</td>
                            <td class="truncate" title=c.summary.clone()>{c.summary.clone()}</td>
                            <td>{c.author.clone()}</td>
                            <td>{when(Some(c.committed_at))}</td>
                            <td class="mono">{c.installed_version.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class="actions">{if c.current { view! { <span class="badge badge-ok">"in use"</span> }.into_any() } else {
                                view! { <button class="btn btn-small" on:click=move |_| pin(sha.clone())>"Pin this commit"</button> }.into_any()
                            }}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="The branch has no commits."/>
        </section>
    }
}

/// Delete with the name typed; `force` when flows use it.
#[component]
fn DeleteDialog(open: RwSignal<bool>, app: ApplicationRow, error: RwSignal<Option<ApiError>>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    modal_effect(dialog, open);
    let typed = RwSignal::new(String::new());
    let force = RwSignal::new(false);
    let name = app.name.clone();
    let matches = {
        let name = name.clone();
        move || typed.get() == name
    };
    let navigate = use_navigate();
    let id = app.id;
    let confirm = move |_| {
        let (typed, force) = (typed.get_untracked(), force.get_untracked());
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::delete_application(&id.to_string(), force, &typed).await {
                Ok(()) => {
                    open.set(false);
                    navigate("/admin/applications", Default::default());
                }
                Err(e) => {
                    open.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <dialog node_ref=dialog class="dialog" on:close=move |_| open.set(false) aria-labelledby="delete-title" data-testid="delete-dialog">
            <h2 id="delete-title">{format!("Delete {}?", name)}</h2>
            <p>"Every version, its models (as entity types), flow templates and connector kinds go. Records keep their data."</p>
            {(app.flows > 0).then(|| view! {
                <label class="check"><input type="checkbox" prop:checked=move || force.get() on:change=move |ev| force.set(event_target_checked(&ev))/>
                    {format!(" Delete even though {} flows use it (they keep their steps)", app.flows)}</label>
            })}
            <div class="field typed-confirm">
                <label for="delete-typed">"Type " <strong>{name.clone()}</strong> " to confirm."</label>
                <input id="delete-typed" autocomplete="off" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
            </div>
            <div class="dialog-actions">
                <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button class="btn btn-danger" disabled=move || !matches() on:click=confirm data-testid="delete-confirm">"Delete application"</button>
            </div>
        </dialog>
    }
}

#[component]
pub fn ImportErrorsPage() -> impl IntoView {
    let query = use_query_map();
    let application = RwSignal::new(query.get_untracked().get("application_id").unwrap_or_default());
    let severity = RwSignal::new(query.get_untracked().get("severity").unwrap_or_default());
    let search = RwSignal::new(String::new());
    let paged = Paged::new(
        move || {
            api::query(&[
                ("application_id", Some(application.get())),
                ("severity", Some(severity.get())),
                ("q", Some(search.get())),
            ])
        },
        |q| async move { api::get::<Page<ImportErrorRow>>(&format!("/api/import-errors{q}")).await },
    );
    let open = RwSignal::new(None::<uuid::Uuid>);
    let row = move |e: ImportErrorRow| {
        let id = e.id;
        let sev = match e.severity {
            Severity::Error => view! { <span class="badge badge-bad">"error"</span> },
            Severity::Warning => view! { <span class="badge badge-warn">"warning"</span> },
        };
        let detail = e.detail.clone();
        view! {
            <tr class="clickable" on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })
                tabindex="0" on:keydown=move |ev| if ev.key() == "Enter" { open.update(|o| *o = if *o == Some(id) { None } else { Some(id) }) }>
                <td>{sev}</td>
                <td class="nowrap">{e.application.clone()} " " <span class="mono muted">{e.version.clone()}</span></td>
                <td class="mono truncate narrow" title=e.file.clone()>{e.file.clone()}</td>
                <td class="truncate" title=e.message.clone()>{e.message.clone()}<div class="mono muted small">{e.code.clone()}</div></td>
                <td class="nowrap">{when(Some(e.created_at))}</td>
            </tr>
            {move || (open.get() == Some(id)).then(|| view! {
                <tr class="detail-row"><td colspan="5"><pre class="detail" data-testid="import-error-detail">{detail.clone()}</pre></td></tr>
            })}
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Import errors"</h2>
                <div class="filters">
                    <input type="search" placeholder="Search message, file or model" aria-label="Search import errors"
                        prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                    <select aria-label="Severity" prop:value=move || severity.get() on:change=move |ev| severity.set(event_target_value(&ev))>
                        <option value="">"Errors and warnings"</option><option value="error">"Errors"</option><option value="warning">"Warnings"</option>
                    </select>
                    {move || (!application.get().is_empty()).then(|| view! {
                        <button class="btn btn-small" on:click=move |_| application.set(String::new())>"All applications ×"</button>
                    })}
                </div>
            </div>
            <p class="muted card-note">"What failed to import from a version, worst first; the rest of the version installed. Click a row (or press Enter on it) for the parser's or validator's detail."</p>
            <div class="table-wrap">
                <table class="table" data-testid="import-errors-table">
                    <thead><tr><th>"Severity"</th><th>"Application"</th><th>"File"</th><th>"Message"</th><th>"When"</th></tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No import errors: every installed file imported."/>
        </section>
    }
}

#[component]
pub fn PackagesPage() -> impl IntoView {
    let search = RwSignal::new(use_query_map().get_untracked().get("q").unwrap_or_default());
    let paged = Paged::new(
        move || api::query(&[("q", Some(search.get()))]),
        |q| async move { api::get::<Page<PackageRow>>(&format!("/api/packages{q}")).await },
    );
    let row = move |p: PackageRow| {
        view! {
            <tr>
                <td class="row-title mono">{p.name.clone()}</td>
                <td class="mono">{p.version.clone()}</td>
                <td>{if p.applications.is_empty() { view! { <span class="muted">"unused"</span> }.into_any() } else {
                    p.applications.iter().map(|a| view! { <span class="badge badge-info">{a.clone()}</span> " " }).collect_view().into_any()
                }}</td>
                <td class="mono truncate" title=p.install_path.clone()>{p.install_path.clone()}</td>
                <td class="num">{p.files}</td>
                <td class="num">{bytes(p.bytes)}</td>
                <td>{when(Some(p.installed_at))}</td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Packages"</h2>
                <div class="filters">
                    <input type="search" placeholder="Search packages" aria-label="Search packages" data-testid="packages-search"
                        prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="packages-table">
                    <thead><tr><th>"Name"</th><th>"Version"</th><th>"Used by"</th><th>"Install path"</th><th class="num">"Files"</th><th class="num">"Size"</th><th>"Installed"</th></tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No packages: the installed applications carry none."/>
        </section>
    }
}
