using System.Net;
using System.Net.Sockets;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Ports for the services tests start themselves.</summary>
public static class FreePorts
{
    private static int _next = 15_000 + Random.Shared.Next(0, 50) * 100;

    /// <summary>One free port chosen by the OS.</summary>
    public static int One()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A base port whose next <paramref name="count"/> ports, and those 10,000 higher (Redis Cluster's bus
    /// ports), are free. Chosen below Linux's ephemeral range (32768+) so an outgoing connection cannot take one.
    /// </summary>
    public static int Block(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = Interlocked.Add(ref _next, 100) - 100;
            if (start + count > 22_000) Interlocked.Exchange(ref _next, 15_000);
            if (Enumerable.Range(start, count).All(p => IsFree(p) && IsFree(p + 10_000))) return start;
        }
        throw new InvalidOperationException("No free block of ports between 15000 and 22000.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
