use super::*;

/// An organization as Control Tower and hand-made setups shape it: roles
/// named by account name, by tag, by OU, an account with a hostile name, two
/// accounts sharing a name, one account nothing names.
fn org() -> Org {
    let account = |id: &str, name: &str, ou: &str, tags: serde_json::Value| {
        serde_json::json!({"id": id, "name": name, "email": format!("{id}@example.com"),
            "status": "ACTIVE", "ou_path": ou, "role": null, "joined_at": "2024-01-01T00:00:00Z",
            "tags": tags})
    };
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "organization": {"id": "o-abc", "arn": "arn:aws:organizations::111111111111:organization/o-abc",
            "management_account_id": "111111111111", "feature_set": "ALL"},
        "accounts": [
            account("111111111111", "Acme Management", "Root", serde_json::json!({})),
            account("222222222222", "Audit", "Root/Security", serde_json::json!({})),
            account("333333333333", "Log Archive", "Root/Security", serde_json::json!({})),
            account("444444444444", "acme-core-1", "Root/Infrastructure", serde_json::json!({"Account-Role": "networking"})),
            account("555555555555", "payments-prod", "Root/Workloads/Prod", serde_json::json!({})),
            account("666666666666", "billing-api", "Root/Workloads/NonProd", serde_json::json!({})),
            account("777777777777", "alice \"x\"\n# injected = true", "Root/Sandboxes", serde_json::json!({})),
            account("888888888888", "ci-shared-services", "Root/Infrastructure", serde_json::json!({})),
            account("999999999999", "mystery", "Root/Other", serde_json::json!({})),
            account("101010101010", "payments-prod", "Root/Workloads/Prod", serde_json::json!({})),
        ]
    }))
    .unwrap()
}

fn role_of(guesses: &[RoleGuess], id: &str) -> Option<Role> {
    guesses.iter().find(|g| g.account_id == id).unwrap().role
}

#[test]
fn roles_are_guessed_from_tags_names_and_ous_with_their_reason() {
    let guesses = guess_roles(&org());
    assert_eq!(role_of(&guesses, "111111111111"), Some(Role::Management));
    assert_eq!(
        role_of(&guesses, "222222222222"),
        Some(Role::Security),
        "Control Tower's Audit"
    );
    assert_eq!(role_of(&guesses, "333333333333"), Some(Role::LogArchive));
    let network = guesses
        .iter()
        .find(|g| g.account_id == "444444444444")
        .unwrap();
    assert_eq!(network.role, Some(Role::Network));
    assert!(matches!(&network.basis, Basis::Tag { key, .. } if key == "Account-Role"));
    assert_eq!(role_of(&guesses, "555555555555"), Some(Role::Workload));
    let by_ou = guesses
        .iter()
        .find(|g| g.account_id == "666666666666")
        .unwrap();
    assert_eq!(by_ou.role, Some(Role::Workload));
    assert_eq!(
        by_ou.basis,
        Basis::Ou {
            path: "Root/Workloads".into()
        }
    );
    assert_eq!(
        role_of(&guesses, "777777777777"),
        Some(Role::Sandbox),
        "by its OU"
    );
    assert_eq!(
        role_of(&guesses, "888888888888"),
        Some(Role::SharedServices)
    );
    let nothing = guesses
        .iter()
        .find(|g| g.account_id == "999999999999")
        .unwrap();
    assert_eq!((nothing.role, &nothing.basis), (None, &Basis::Nothing));
    assert!(nothing.reason().contains("nothing"));
}

#[test]
fn a_singleton_role_is_never_guessed_from_an_ou_alone() {
    let mut org = org();
    org.accounts[1].name = "acme-4711".into(); // in Root/Security, named nothing
    let guesses = guess_roles(&org);
    assert_eq!(role_of(&guesses, "222222222222"), None);
}

#[test]
fn the_starter_file_parses_and_gives_every_account_its_guessed_role() {
    let org = org();
    let guesses = guess_roles(&org);
    let regions = Ok(vec!["eu-west-1".to_string(), "us-east-1".to_string()]);
    let text = starter_config(&org, &guesses, "us-east-1", &regions, "2026-11-26").unwrap();
    let config = Config::parse(Path::new("auditpack.toml"), &text).unwrap();
    for g in &guesses {
        let account = org.account(&g.account_id).unwrap();
        assert_eq!(
            config.role_for(account, "111111111111"),
            g.role,
            "{}",
            g.account_id
        );
    }
    // The hostile name is one quoted value, not a key of its own.
    assert!(!text
        .lines()
        .any(|l| l.trim_start().starts_with("# injected") && !l.contains('"')));
    assert!(text.contains("--regions eu-west-1,us-east-1"), "{text}");
    // Two accounts share a name: selected by id, so nothing else is.
    assert!(
        text.contains("ids = [   # accounts whose name another account shares"),
        "{text}"
    );
    assert!(text.contains("ou_paths = [\"Root/Workloads/*\"]"), "{text}");
    assert!(
        text.contains("#   999999999999  \"mystery\"  \"Root/Other\""),
        "{text}"
    );
}

#[test]
fn a_rule_that_would_select_another_account_is_pinned_by_id() {
    // An account tagged like the network account but named for the log
    // archive: the tag wins its guess, and the tag rule must not also catch
    // an account whose own guess differs.
    let mut org = org();
    org.accounts[2]
        .tags
        .insert("Account-Role".into(), "networking".into());
    org.accounts[2].name = "mystery-2".into();
    let mut guesses = guess_roles(&org);
    // Force a disagreement the plain rules cannot express.
    guesses
        .iter_mut()
        .find(|g| g.account_id == "333333333333")
        .unwrap()
        .role = Some(Role::LogArchive);
    let text = starter_config(&org, &guesses, "us-east-1", &Ok(vec![]), "2026-11-26").unwrap();
    // One of the two accounts the shared tag selects is pinned by id first.
    let pinned = ["ids = [\"333333333333\"]", "ids = [\"444444444444\"]"];
    assert!(pinned.iter().any(|p| text.contains(p)), "{text}");
    let config = Config::parse(Path::new("auditpack.toml"), &text).unwrap();
    for g in &guesses {
        let account = org.account(&g.account_id).unwrap();
        assert_eq!(
            config.role_for(account, "111111111111"),
            g.role,
            "{}",
            g.account_id
        );
    }
}

#[test]
fn regions_that_could_not_be_listed_are_said_so() {
    let org = org();
    let text = starter_config(
        &org,
        &guess_roles(&org),
        "eu-central-1",
        &Err("AccessDenied: no\nway".into()),
        "2026-11-26",
    )
    .unwrap();
    assert!(
        text.contains("could not be listed (AccessDenied: noway)"),
        "{text}"
    );
    assert!(text.contains(
        "Home region (from your credentials; global services are read there): eu-central-1"
    ));
}
