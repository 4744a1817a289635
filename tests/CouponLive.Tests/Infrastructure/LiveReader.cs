namespace CouponLive.Tests.Infrastructure;

/// <summary>A campaign's live view (server-sent events) held open, to see how it ends.</summary>
public sealed class LiveReader(HttpResponseMessage response, StreamReader reader) : IDisposable
{
    public StreamReader Reader => reader;

    /// <summary>
    /// Reads until the server ends the stream: null when it ended cleanly (the end of the body) within
    /// <paramref name="timeout"/>, else what happened instead (a broken connection, still open).
    /// </summary>
    public async Task<string?> EndsCleanlyAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (await reader.ReadLineAsync(deadline.Token) is not null) { }
            return null;
        }
        catch (OperationCanceledException)
        {
            return $"still open after {timeout.TotalSeconds:F0} s";
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    public void Dispose()
    {
        reader.Dispose();
        response.Dispose();
    }
}
