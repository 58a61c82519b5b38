using HekiActors.Cli.Output;

namespace HekiActors.Cli.Tests;

/// <summary>
/// User text echoed in a message (a name, a path, an option's value) is capped on standard error: a 100 KB scenario
/// file name was echoed in full, twice.
/// </summary>
public sealed class UserTextTests
{
    [Fact]
    public void A_word_longer_than_the_cap_is_cut_with_its_length_and_the_rest_of_the_line_stays()
    {
        var name = new string('a', 100_000);

        var line = UserText.Cap($"heki simulate: {name}.yaml: cannot read the scenario file: The path '/tmp/{name}.yaml' is too long");

        Assert.Equal($"heki simulate: {new string('a', 200)}…(100,006 chars) cannot read the scenario file: The path '/tmp/{new string('a', 194)}…(100,012 chars) is too long", line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("heki node: --role 'a b' must be a word without spaces")]
    [InlineData("a line\nwith\ttabs and  spaces\n")]
    public void Text_without_an_overlong_word_is_left_as_it_is(string text)
    {
        Assert.Same(text, UserText.Cap(text));
    }

    [Fact]
    public void A_word_of_exactly_the_cap_is_shown_in_full()
    {
        var word = new string('b', UserText.MaxWord);
        Assert.Equal($"x {word} y", UserText.Cap($"x {word} y"));
        Assert.Equal($"{word}…(201 chars)", UserText.Cap(word + "c"));
    }
}
