using FsCheck;
using FsCheck.Fluent;
using VoiceKraliki.Telephony.Signatures;
using static VoiceKraliki.Telephony.Tests.Signatures.SignatureGenerators;

namespace VoiceKraliki.Telephony.Tests.Signatures;

public class TwilioSignaturePropertyTests
{
    private sealed record FormCase(string Token, string Url, KeyValuePair<string, string>[] Fields);

    private static readonly Arbitrary<FormCase> FormCases =
        (from token in Token
         from url in Url
         from fields in Fields
         select new FormCase(token, url, fields)).ToArbitrary();

    private static readonly Arbitrary<(int, byte)> Changes = ByteChange.ToArbitrary();

    private static bool Valid(FormCase c, string url, KeyValuePair<string, string>[] fields, string signature, string? token = null) =>
        new TwilioRequestValidator(token ?? c.Token).Validate(url, fields, signature);

    [Fact]
    public void A_signed_form_request_always_validates()
    {
        Holds(Prop.ForAll(FormCases, c =>
            Valid(c, c.Url, c.Fields, new TwilioRequestSigner(c.Token).Sign(c.Url, c.Fields))));
    }

    [Fact]
    public void The_field_order_of_a_signed_request_does_not_matter()
    {
        Holds(Prop.ForAll(FormCases, c =>
            Valid(c, c.Url, c.Fields.Reverse().ToArray(), TwilioSignature.Compute(c.Token, c.Url, c.Fields))));
    }

    [Fact]
    public void Changing_any_byte_of_the_url_invalidates_the_signature()
    {
        Holds(Prop.ForAll(FormCases, Changes, (c, change) =>
        {
            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields);
            return !Valid(c, ChangeOneByte(c.Url, change), c.Fields, signature);
        }));
    }

    [Fact]
    public void Changing_any_byte_of_any_key_invalidates_the_signature()
    {
        Holds(Prop.ForAll(FormCases, Changes, (c, change) =>
        {
            if (c.Fields.Length == 0)
            {
                return true;
            }

            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields);
            var fields = (KeyValuePair<string, string>[])c.Fields.Clone();
            var index = change.Item1 % fields.Length;
            fields[index] = new(ChangeOneByte(fields[index].Key, change), fields[index].Value);
            return !Valid(c, c.Url, fields, signature);
        }));
    }

    [Fact]
    public void Changing_any_byte_of_any_value_invalidates_the_signature()
    {
        Holds(Prop.ForAll(FormCases, Changes, (c, change) =>
        {
            var index = c.Fields.Length == 0 ? -1 : change.Item1 % c.Fields.Length;
            if (index < 0 || c.Fields[index].Value.Length == 0)
            {
                return true;
            }

            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields);
            var fields = (KeyValuePair<string, string>[])c.Fields.Clone();
            fields[index] = new(fields[index].Key, ChangeOneByte(fields[index].Value, change));
            return !Valid(c, c.Url, fields, signature);
        }));
    }

    [Fact]
    public void Adding_or_removing_a_field_invalidates_the_signature()
    {
        Holds(Prop.ForAll(FormCases, c =>
        {
            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields);
            KeyValuePair<string, string>[] added = [.. c.Fields, new("Injected", "1")];
            var removed = c.Fields.Length == 0 || c.Fields.Skip(1).Any(f => f.Equals(c.Fields[0]))
                ? null
                : c.Fields[1..];
            return !Valid(c, c.Url, added, signature) && (removed is null || !Valid(c, c.Url, removed, signature));
        }));
    }

    [Fact]
    public void Changing_any_byte_of_the_auth_token_invalidates_the_signature()
    {
        Holds(Prop.ForAll(FormCases, Changes, (c, change) =>
        {
            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields);
            return !Valid(c, c.Url, c.Fields, signature, token: ChangeOneByte(c.Token, change));
        }));
    }

    [Fact]
    public void Changing_any_character_of_the_signature_invalidates_it()
    {
        const string base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
        Holds(Prop.ForAll(FormCases, Changes, (c, change) =>
        {
            var signature = TwilioSignature.Compute(c.Token, c.Url, c.Fields).ToCharArray();
            var position = change.Item1 % signature.Length;
            var replacement = base64[(base64.IndexOf(signature[position]) + 1 + (change.Item2 % (base64.Length - 1))) % base64.Length];
            signature[position] = replacement;
            return !Valid(c, c.Url, c.Fields, new string(signature));
        }));
    }

    private sealed record JsonCase(string Token, string Url, byte[] Body);

    private static readonly Arbitrary<JsonCase> JsonCases =
        (from token in Token
         from url in Url.Where(u => !u.Contains('#') && !u.Contains("bodySHA256", StringComparison.Ordinal))
         from body in Bytes(2048)
         select new JsonCase(token, url, body)).ToArbitrary();

    [Fact]
    public void A_signed_json_request_always_validates()
    {
        Holds(Prop.ForAll(JsonCases, c =>
        {
            var (url, signature) = new TwilioRequestSigner(c.Token).SignJsonBody(c.Url, c.Body);
            return new TwilioRequestValidator(c.Token).ValidateJsonBody(url, c.Body, signature);
        }));
    }

    [Fact]
    public void Changing_any_byte_of_a_json_body_invalidates_the_request()
    {
        Holds(Prop.ForAll(JsonCases, Changes, (c, change) =>
        {
            if (c.Body.Length == 0)
            {
                return true;
            }

            var (url, signature) = new TwilioRequestSigner(c.Token).SignJsonBody(c.Url, c.Body);
            return !new TwilioRequestValidator(c.Token).ValidateJsonBody(url, ChangeOneByte(c.Body, change), signature);
        }));
    }

    [Fact]
    public void Changing_any_byte_of_a_json_request_url_invalidates_the_request()
    {
        Holds(Prop.ForAll(JsonCases, Changes, (c, change) =>
        {
            var (url, signature) = new TwilioRequestSigner(c.Token).SignJsonBody(c.Url, c.Body);
            return !new TwilioRequestValidator(c.Token).ValidateJsonBody(ChangeOneByte(url, change), c.Body, signature);
        }));
    }

    [Fact]
    public void Arbitrary_input_never_throws_and_never_validates()
    {
        var strings = ArbMap.Default.ArbFor<string>();
        var pairs = ArbMap.Default.ArbFor<KeyValuePair<string, string>[]>();
        Holds(Prop.ForAll(strings, strings, pairs, (url, signature, fields) =>
        {
            var validator = new TwilioRequestValidator("token");
            return !validator.Validate(url, fields, signature)
                && !validator.ValidateJsonBody(url, System.Text.Encoding.UTF8.GetBytes(signature ?? ""), signature);
        }));
    }
}
