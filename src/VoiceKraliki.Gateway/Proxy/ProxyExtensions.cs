using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace VoiceKraliki.Gateway.Proxy;

internal static class ProxyExtensions
{
    /// <summary>Headers only this gateway may set; copies arriving from outside are dropped.</summary>
    private static readonly string[] ForwardingHeaders = ["Forwarded", "X-Real-IP", "X-Forwarded-Port"];

    private const long ChunkFramingHeadroomBytes = 16 * 1024;

    public static void AddGateway(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<GatewayOptions>(GatewayOptions.SectionName);
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(context =>
            {
                foreach (var header in ForwardingHeaders)
                {
                    context.AddRequestHeaderRemove(header);
                }

                // "Set" replaces whatever X-Forwarded-* the client sent with what we saw.
                context.AddXForwarded(ForwardedTransformActions.Set);
            });
    }

    /// <summary>Caps request bodies before they are proxied: 64 KiB on <c>/webhooks/**</c> by default.</summary>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
            var limit = context.Request.Path.StartsWithSegments("/webhooks")
                ? options.WebhookBodyLimitBytes
                : options.DefaultBodyLimitBytes;

            if (context.Request.ContentLength > limit)
            {
                await WriteTooLargeAsync(context, limit);
                return;
            }

            var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (context.Request.ContentLength is not null)
            {
                // Kestrel refuses to read more than the declared length, which is within the limit.
                if (feature is { IsReadOnly: false })
                {
                    feature.MaxRequestBodySize = limit;
                }
            }
            else
            {
                // A chunked body is counted exactly as it is read; Kestrel's own limit (which also counts
                // chunk framing) stays as a backstop with headroom.
                if (feature is { IsReadOnly: false })
                {
                    feature.MaxRequestBodySize = limit + ChunkFramingHeadroomBytes;
                }

                context.Request.Body = new BodyLengthLimitStream(context.Request.Body, limit);
            }

            await next(context);
        });

    public static void MapGatewayProxy(this WebApplication app) =>
        app.MapReverseProxy(proxy => proxy.Use(async (context, next) =>
        {
            await next();
            // A chunked body that passed the limit surfaces as a client body error: say 413, not 502.
            var error = context.GetForwarderErrorFeature();
            if (IsBodyTooLarge(error?.Exception) && !context.Response.HasStarted)
            {
                var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
                context.Response.Clear();
                await WriteTooLargeAsync(context, context.Request.Path.StartsWithSegments("/webhooks")
                    ? options.WebhookBodyLimitBytes
                    : options.DefaultBodyLimitBytes);
            }
        }));

    /// <summary>YARP reports a body read failure wrapped (an AggregateException from the body copy).</summary>
    internal static bool IsBodyTooLarge(Exception? exception) => exception switch
    {
        null => false,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsBodyTooLarge),
        _ => IsBodyTooLarge(exception.InnerException),
    };

    private static Task WriteTooLargeAsync(HttpContext context, long limit)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "Request body too large",
                Detail = $"The body of a request to {context.Request.Path} may be at most {limit} bytes.",
            },
        }).AsTask();
    }
}
