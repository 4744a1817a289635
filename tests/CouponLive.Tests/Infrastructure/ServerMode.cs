namespace CouponLive.Tests.Infrastructure;

public enum ServerMode { Embedded, Production, ProductionMySql }
