namespace CouponLive.LoadTest;

public enum Scenario { Stampede, Rate, Tokens }
