using ZeroPg.Security;

namespace ZeroPg.Tests.Security;

/// <summary>The random numbers taken from Guid.NewGuid (the OS's CSPRNG without OpenSSL): every byte position varies, and ranges hold.</summary>
public sealed class OsRandomTests
{
    [Fact]
    public void Every_byte_of_a_fill_varies_including_those_after_the_first_guid()
    {
        // 20 bytes take three GUIDs; a byte copied from a GUID's fixed version or variant bits would repeat in every sample.
        var samples = Enumerable.Range(0, 64).Select(_ => OsRandom.GetBytes(20)).ToArray();
        for (var i = 0; i < 20; i++)
            Assert.True(samples.Select(s => s[i]).Distinct().Count() > 16, $"byte {i} barely varies");
        Assert.Equal(64, samples.Select(Convert.ToHexString).Distinct().Count());
    }

    [Fact]
    public void Integers_stay_in_their_range_and_cover_it()
    {
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++)
        {
            var value = OsRandom.GetInt32(1000, 1010);
            Assert.InRange(value, 1000, 1009);
            seen.Add(value);
        }
        Assert.Equal(10, seen.Count);
        Assert.Equal(7, OsRandom.GetInt32(7, 8));
        Assert.InRange(OsRandom.GetInt32(int.MaxValue), 0, int.MaxValue - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => OsRandom.GetInt32(5, 5));
    }
}
