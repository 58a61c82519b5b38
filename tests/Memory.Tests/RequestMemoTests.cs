using HekiActors.Memory.Vm;
using Xunit;

namespace HekiActors.Memory.Tests;

/// <summary>The bounded memo of answered requests (a VM's deduplication, heki-semantics.md "requests carry ids").</summary>
public sealed class RequestMemoTests
{
    private static Guid Id(int i) => new(i, 0, 0, new byte[8]);

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 10)]
    [InlineData(40, 100)]   // past the point where the memo indexes its entries
    [InlineData(1024, 3000)]
    public void A_memo_keeps_the_last_capacity_answers_oldest_first_and_forgets_older_ones(int capacity, int requests)
    {
        var memo = new AnsweredRequests(capacity);
        for (var i = 1; i <= requests; i++)
            memo.Remember(Id(i), new RecordedAnswer(i));

        var kept = Math.Min(capacity, requests);
        Assert.Equal(kept, memo.Count);
        Assert.Equal(Enumerable.Range(requests - kept + 1, kept).Select(Id), memo.ToArray().Select(a => a.RequestId));
        for (var i = 1; i <= requests; i++)
        {
            var found = memo.TryGet(Id(i), out var answer);
            Assert.Equal(i > requests - kept, found);
            if (found)
                Assert.Equal(i, answer.Result);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(40)]
    public void The_first_answer_to_an_id_is_kept_and_a_later_one_ignored(int earlier)
    {
        var memo = new AnsweredRequests(64);
        for (var i = 1; i <= earlier; i++)
            memo.Remember(Id(i), new RecordedAnswer(i));
        memo.Remember(Id(1), new RecordedAnswer(-1));

        Assert.True(memo.TryGet(Id(1), out var answer));
        Assert.Equal(1, answer.Result);
        Assert.Equal(earlier, memo.Count);
    }

    [Fact]
    public void The_empty_id_is_never_remembered()
    {
        var memo = new AnsweredRequests(8);
        memo.Remember(Guid.Empty, new RecordedAnswer(1));

        Assert.False(memo.TryGet(Guid.Empty, out _));
        Assert.Equal(0, memo.Count);
    }
}
