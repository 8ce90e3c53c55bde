//! Widgets shared by the pages.

pub mod chart;
pub mod dialog;
pub mod form;
pub mod form_dialog;
pub mod icon;
pub mod list;
pub mod row_menu;
pub mod scope_bar;
pub mod shell;
pub mod view_as;
