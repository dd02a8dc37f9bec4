using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Alerting.Signals;

namespace VoiceKraliki.Alerting.Tests.Rules;

public class RuleValidatorTests
{
    private const string ValidRule = """
        {
          "name": "call_drop_rate_high",
          "signal": "call_drop_rate",
          "comparison": ">",
          "threshold": 0.05,
          "for": "2m",
          "keep_firing_for": "1m",
          "labels": { "severity": "high", "team": "voice" },
          "annotations": {
            "summary": "Calls are dropping on {{ $labels.provider }}",
            "description": "Drop rate {{ $value }}",
            "runbook_url": "https://github.com/voicekraliki/voicekraliki/blob/main/docs/runbooks/call_drop_rate_high.md"
          },
          "enabled": true
        }
        """;

    private static readonly RuleValidator Validator = new(KnownSignals.All);

    private static JsonObject Rule(string name = "call_drop_rate_high")
    {
        var rule = JsonNode.Parse(ValidRule)!.AsObject();
        rule["name"] = name;
        return rule;
    }

    private static string File(params JsonNode[] rules) => new JsonObject { ["rules"] = new JsonArray(rules) }.ToJsonString();

    private static IReadOnlyDictionary<string, string[]> FileErrors(string json)
    {
        Assert.False(RuleValidator.TryParse(json, KnownSignals.All, out var rules, out var errors));
        Assert.Empty(rules);
        return errors;
    }

    /// <summary>Changes one field of the third rule of a file; the error must be keyed by exactly that field.</summary>
    private static void AssertOnlyErrorAt(string path, Action<JsonObject> change)
    {
        var wrong = Rule("third");
        change(wrong);
        var errors = FileErrors(File(Rule("first"), Rule("second"), wrong));
        Assert.Equal([path], errors.Keys);
        Assert.All(errors[path], message => Assert.False(string.IsNullOrWhiteSpace(message)));
    }

    [Fact]
    public void A_valid_rule_file_parses_to_its_rules()
    {
        Assert.True(RuleValidator.TryParse(File(Rule("a"), Rule("b")), KnownSignals.All, out var rules, out var errors), string.Join(", ", errors.Keys));
        Assert.Empty(errors);
        Assert.Equal(["a", "b"], rules.Select(r => r.Name));
        var rule = rules[0];
        Assert.Equal("call_drop_rate", rule.Signal);
        Assert.Equal(">", rule.Comparison);
        Assert.Equal(0.05, rule.Threshold);
        Assert.Equal(TimeSpan.FromMinutes(2), rule.ForDuration);
        Assert.Equal(TimeSpan.FromMinutes(1), rule.KeepFiringForDuration);
        Assert.Equal("high", rule.Labels!["severity"]);
        Assert.True(rule.Enabled);
    }

    [Fact]
    public void Missing_optional_fields_take_their_defaults()
    {
        var rule = Rule();
        rule.Remove("for");
        rule.Remove("keep_firing_for");
        rule.Remove("enabled");
        rule["annotations"] = new JsonObject { ["summary"] = "s" };
        Assert.True(RuleValidator.TryParse(File(rule), KnownSignals.All, out var rules, out _));
        Assert.Equal(TimeSpan.Zero, rules[0].ForDuration);
        Assert.Equal(TimeSpan.Zero, rules[0].KeepFiringForDuration);
        Assert.True(rules[0].Enabled);
    }

    [Theory]
    [InlineData("name", "\"bad name!\"")]
    [InlineData("name", "\"\"")]
    [InlineData("name", "null")]
    [InlineData("name", "42")]
    [InlineData("signal", "\"cpu_usage\"")]
    [InlineData("comparison", "\"=>\"")]
    [InlineData("threshold", "\"0.05\"")]
    [InlineData("threshold", "null")]
    [InlineData("threshold", "1e400")]
    [InlineData("for", "\"5 minutes\"")]
    [InlineData("for", "\"25h\"")]
    [InlineData("for", "300")]
    [InlineData("keep_firing_for", "\"1w\"")]
    [InlineData("enabled", "\"yes\"")]
    public void A_wrong_field_is_reported_at_its_path_in_the_file(string field, string json) =>
        AssertOnlyErrorAt($"rules[2].{field}", rule => rule[field] = JsonNode.Parse(json));

    [Fact]
    public void A_name_longer_than_100_characters_is_rejected() =>
        AssertOnlyErrorAt("rules[2].name", rule => rule["name"] = new string('a', 101));

    [Theory]
    [InlineData("\"urgent\"")]
    [InlineData("\"HIGH\"")]
    [InlineData("3")]
    public void A_wrong_severity_is_reported_at_labels_severity(string json) =>
        AssertOnlyErrorAt("rules[2].labels.severity", rule => rule["labels"]!["severity"] = JsonNode.Parse(json));

    [Fact]
    public void A_missing_severity_is_reported_at_labels_severity() =>
        AssertOnlyErrorAt("rules[2].labels.severity", rule => rule["labels"]!.AsObject().Remove("severity"));

    [Fact]
    public void Missing_labels_are_reported_as_a_missing_severity() =>
        AssertOnlyErrorAt("rules[2].labels.severity", rule => rule.Remove("labels"));

    [Fact]
    public void Labels_that_are_not_an_object_are_reported_at_labels_only() =>
        AssertOnlyErrorAt("rules[2].labels", rule => rule["labels"] = "high");

    [Theory]
    [InlineData("alertname", "rules[2].labels.alertname")]
    [InlineData("__internal", "rules[2].labels.__internal")]
    [InlineData("9lives", "rules[2].labels['9lives']")]
    [InlineData("team-name", "rules[2].labels['team-name']")]
    public void A_reserved_or_invalid_label_name_is_reported_at_that_label(string label, string path) =>
        AssertOnlyErrorAt(path, rule => rule["labels"]![label] = "x");

    [Fact]
    public void A_missing_summary_is_reported_at_annotations_summary() =>
        AssertOnlyErrorAt("rules[2].annotations.summary", rule => rule["annotations"]!.AsObject().Remove("summary"));

    [Theory]
    [InlineData("ftp://example.com/runbook")]
    [InlineData("docs/runbooks/x.md")]
    [InlineData("")]
    public void A_runbook_url_that_is_not_an_absolute_http_url_is_rejected(string url) =>
        AssertOnlyErrorAt("rules[2].annotations.runbook_url", rule => rule["annotations"]!["runbook_url"] = url);

    [Fact]
    public void An_annotation_longer_than_2000_characters_is_rejected() =>
        AssertOnlyErrorAt("rules[2].annotations.description", rule => rule["annotations"]!["description"] = new string('x', 2001));

    [Fact]
    public void An_unknown_field_is_reported_at_its_path() =>
        AssertOnlyErrorAt("rules[2].expr", rule => rule["expr"] = "rate(x[5m]) > 1");

    [Fact]
    public void Field_names_are_case_sensitive_in_files() =>
        AssertOnlyErrorAt("rules[2].Enabled", rule => rule["Enabled"] = false);

    [Fact]
    public void A_field_given_twice_is_reported()
    {
        var json = File(Rule()).Replace("\"threshold\":0.05", "\"threshold\":0.05,\"threshold\":0.5", StringComparison.Ordinal);
        Assert.Equal(["rules[0].threshold"], FileErrors(json).Keys);
    }

    [Fact]
    public void Every_wrong_field_is_reported_not_only_the_first()
    {
        var rule = Rule();
        rule["signal"] = "nope";
        rule["threshold"] = "high";
        rule["labels"]!["severity"] = "urgent";
        rule["extra"] = 1;
        var errors = FileErrors(File(Rule("ok"), rule));
        Assert.Equal(
            ["rules[1].extra", "rules[1].labels.severity", "rules[1].signal", "rules[1].threshold"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Duplicate_rule_names_are_reported_at_the_later_rule()
    {
        var errors = FileErrors(File(Rule("same"), Rule("other"), Rule("Same")));
        Assert.Equal(["rules[2].name"], errors.Keys);
        Assert.Contains("rules[0]", errors["rules[2].name"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"rules\": [ {\"name\": \"x\",, } ]}")]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("nul")]
    public void Malformed_json_is_an_error_at_the_root_not_an_exception(string json)
    {
        var errors = FileErrors(json);
        Assert.Equal([RuleValidator.RootPath], errors.Keys);
    }

    [Fact]
    public void Malformed_json_says_where()
    {
        var errors = FileErrors("{\n  \"rules\": [ oops ]\n}");
        Assert.Contains("line 2", errors[RuleValidator.RootPath][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "$")]
    [InlineData("{}", "rules")]
    [InlineData("{\"rules\": {}}", "rules")]
    [InlineData("{\"rules\": [], \"groups\": []}", "groups")]
    [InlineData("{\"rules\": [42]}", "rules[0]")]
    public void A_file_of_the_wrong_shape_is_reported_at_the_wrong_part(string json, string path) =>
        Assert.Equal([path], FileErrors(json).Keys);

    [Fact]
    public void An_empty_rule_list_is_a_valid_file()
    {
        Assert.True(RuleValidator.TryParse("{\"rules\": []}", KnownSignals.All, out var rules, out var errors));
        Assert.Empty(rules);
        Assert.Empty(errors);
    }

    [Fact]
    public void Comments_are_allowed_in_rule_files() =>
        Assert.True(RuleValidator.TryParse("// defaults\n{\"rules\": [] /* none */}", KnownSignals.All, out _, out _));

    [Fact]
    public void A_rule_bound_by_an_api_is_validated_with_paths_without_a_prefix()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var rule = Rule();
        rule["for"] = "soon";
        rule["labels"]!["severity"] = "urgent";
        rule["colour"] = "red";
        rule.Remove("threshold");
        var bound = JsonSerializer.Deserialize<AlertRule>(rule.ToJsonString(), options);

        var errors = Validator.Validate(bound);

        Assert.Equal(["colour", "for", "labels.severity", "threshold"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_valid_rule_bound_by_an_api_has_no_errors()
    {
        var bound = JsonSerializer.Deserialize<AlertRule>(ValidRule, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Assert.Empty(Validator.Validate(bound));
    }

    [Fact]
    public void A_missing_rule_is_an_error_not_an_exception() =>
        Assert.Equal([RuleValidator.RootPath], Validator.Validate(null).Keys);

    [Fact]
    public void A_rule_serializes_to_the_snake_case_it_was_read_from()
    {
        Assert.True(RuleValidator.TryParseRule(ValidRule, KnownSignals.All, out var rule, out _));
        var json = JsonSerializer.Serialize(rule);

        Assert.Contains("\"keep_firing_for\":\"1m\"", json, StringComparison.Ordinal);
        Assert.Contains("\"runbook_url\"", json, StringComparison.Ordinal);
        Assert.True(RuleValidator.TryParseRule(json, KnownSignals.All, out var again, out var errors), string.Join(", ", errors.Keys));
        Assert.Equal(rule!.Name, again!.Name);
        Assert.Equal(rule.For, again.For);
    }

    [Fact]
    public void A_single_rule_parses_with_the_strictness_of_a_file()
    {
        var rule = Rule();
        rule["threshold"] = "0.05";
        rule["extra"] = true;
        Assert.False(RuleValidator.TryParseRule(rule.ToJsonString(), KnownSignals.All, out var parsed, out var errors));
        Assert.Null(parsed);
        Assert.Equal(["extra", "threshold"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Several_rules_are_validated_together_with_unique_names()
    {
        var rules = JsonSerializer.Deserialize<AlertRule[]>($"[{ValidRule},{ValidRule}]")!;
        Assert.Equal(["rules[1].name"], Validator.ValidateAll(rules).Keys);
    }

    [Fact]
    public void The_default_rules_are_valid()
    {
        var rules = DefaultRules.Load(KnownSignals.All);

        Assert.Equal(8, rules.Count);
        Assert.All(rules, rule =>
        {
            Assert.Empty(Validator.Validate(rule));
            Assert.Equal(
                $"https://github.com/voicekraliki/voicekraliki/blob/main/docs/runbooks/{rule.Name}.md",
                rule.Annotations![AlertRule.RunbookUrlAnnotation]);
            Assert.True(rule.Annotations.ContainsKey(AlertRule.DescriptionAnnotation));
        });
    }

    [Theory]
    [InlineData("audio_mos", "<", 3.5, "2m", "high")]
    [InlineData("call_drop_rate", ">", 0.05, "2m", "high")]
    [InlineData("webhook_failure_rate", ">", 0.10, "1m", "critical")]
    [InlineData("webhook_response_time_p95_ms", ">", 500, "2m", "medium")]
    [InlineData("error_rate", ">", 0.05, "2m", "high")]
    [InlineData("provider_health", "<", 0.75, "30s", "critical")]
    [InlineData("compliance_violations", ">", 0, "0s", "critical")]
    [InlineData("compliance_requests_at_risk", ">", 0, "0s", "high")]
    public void The_default_rules_are_the_milestones(string signal, string comparison, double threshold, string @for, string severity)
    {
        var rule = Assert.Single(DefaultRules.Load(KnownSignals.All), r => r.Signal == signal);
        Assert.Equal(comparison, rule.Comparison);
        Assert.Equal(threshold, rule.Threshold);
        Assert.Equal(PromDuration.Parse(@for), rule.ForDuration);
        Assert.Equal(severity, rule.Labels!["severity"]);
    }

    [Fact]
    public void The_default_rules_watch_only_signals_the_service_publishes() =>
        Assert.Equal(8, DefaultRules.Load(SignalNames.All).Count);

    [Fact]
    public void Default_rules_naming_an_unknown_signal_fail_loudly() =>
        Assert.Throws<InvalidOperationException>(() => DefaultRules.Load(["call_drop_rate"]));
}
