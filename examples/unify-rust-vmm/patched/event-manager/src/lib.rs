// A build-patch shim: rustc compiles the patched upstream crate as this one.
// The crate-level attributes of the upstream root that change compilation
// (`include!` cannot carry them); the build checks they stay in sync.
// Cargo caps the lints of registry dependencies (`--cap-lints allow`); a
// shim is a path dependency, so it allows them itself, deny-by-default
// ones included (such as `$crate::` paths to exported macros, which rustc
// refuses inside `include!` unless allowed).
#![allow(unknown_lints, renamed_and_removed_lints)]
#![allow(warnings, future_incompatible, rust_2024_compatibility)]
#![allow(ambiguous_associated_items, arithmetic_overflow, binary_asm_labels)]
#![allow(bindings_with_variant_name, conflicting_repr_hints, dangerous_implicit_autorefs)]
#![allow(default_overrides_default_fields, dependency_on_unit_never_type_fallback, deref_nullptr)]
#![allow(elided_lifetimes_in_associated_constant, enum_intrinsics_non_enums, explicit_builtin_cfgs_in_flags)]
#![allow(ill_formed_attribute_input, incomplete_include, ineffective_unstable_trait_impl)]
#![allow(invalid_atomic_ordering, invalid_from_utf8_unchecked, invalid_macro_export_arguments)]
#![allow(invalid_null_arguments, invalid_reference_casting, invalid_type_param_default)]
#![allow(legacy_derive_helpers, let_underscore_lock, long_running_const_eval)]
#![allow(macro_expanded_macro_exports_accessed_by_absolute_paths, mutable_transmutes, named_asm_labels)]
#![allow(never_type_fallback_flowing_into_unsafe, no_mangle_const_items, out_of_scope_macro_calls)]
#![allow(overflowing_literals, patterns_in_fns_without_body, proc_macro_derive_resolution_fallback)]
#![allow(pub_use_of_private_extern_crate, repr_transparent_non_zst_fields, semicolon_in_expressions_from_macros)]
#![allow(soft_unstable, text_direction_codepoint_in_comment, text_direction_codepoint_in_literal)]
#![allow(unconditional_panic, undropped_manually_drops, unknown_crate_types)]
#![allow(useless_deprecated)]

include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
