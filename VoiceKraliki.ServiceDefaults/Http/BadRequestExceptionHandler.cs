using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace VoiceKraliki.ServiceDefaults.Http;

/// <summary>
/// A request the framework could not read (malformed JSON, a value of the wrong type, a body over the size limit) is
/// the client's fault: answered with its own status (400, 413, …) as ProblemDetails saying what was wrong, not a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request could not be read.",
                // The framework's message names the problem (e.g. the JSON path and type), never the body itself.
                Detail = bad.InnerException?.Message ?? bad.Message,
            },
        });
    }
}
