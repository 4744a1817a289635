namespace CouponLive.LoadTest;

/// <summary>What one answer meant for the sale.</summary>
public enum Outcome { Issued, AlreadyIssued, SoldOut, WindowSoldOut, NotOpen, Ended, Unavailable, RateLimited, HttpError, TransportError, Timeout, CutOff }
