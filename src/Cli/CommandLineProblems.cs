using System.CommandLine;
using System.CommandLine.Parsing;

namespace HekiActors.Cli;

/// <summary>
/// The first thing wrong with the words of a command line, named the way the user would: System.CommandLine hands an
/// unknown option to an optional positional argument and then blames the next word, and leaves a flag's bad value
/// (<c>--mbec maybe</c>) to the positional argument too.
/// </summary>
internal static class CommandLineProblems
{
    /// <summary>Null when the command line is fine; otherwise one line, without the command's name.</summary>
    /// <param name="isPositional">Whether a word could be the command's positional argument (a scenario file must end in
    /// .yaml, .yml or .json); a word right after a flag that could not be one is taken as the flag's bad value.</param>
    public static string? Describe(ParseResult parse, Func<string, bool>? isPositional = null)
    {
        var tokens = parse.Tokens;
        var literalFrom = IndexOf(tokens, t => t.Type == TokenType.DoubleDash) ?? tokens.Count;
        var positional = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).ToList();
        foreach (var token in positional)
        {
            var index = IndexOf(tokens, t => ReferenceEquals(t, token)) ?? IndexOf(tokens, t => t.Equals(token)) ?? 0;
            if (index < literalFrom && LooksLikeOption(token.Value))
                return $"unknown option '{OptionName(token.Value)}'";
            if (index > 0 && index < literalFrom && tokens[index - 1].Type == TokenType.Option
                && FlagNamed(parse, tokens[index - 1].Value) is { } flag && !(isPositional?.Invoke(token.Value) ?? true))
                return $"{flag.Name} takes true or false (or nothing, meaning true), got '{token.Value}'";
        }

        foreach (var given in parse.CommandResult.Children.OfType<OptionResult>().Where(o => !o.Implicit))
        {
            // "--vms --duration 2s": System.CommandLine gives --vms the value "--duration" and 2s to the positional.
            if (given.Tokens.FirstOrDefault(t => OptionNamed(parse, t.Value) is not null) is { } swallowed)
                return $"{given.Option.Name} needs a value (got the option {swallowed.Value})";
            if (given.Tokens.Count == 0 && given.Option.Arity.MinimumNumberOfValues > 0)
                return $"{given.Option.Name} needs a value";
            if (given.Tokens.Count > given.Option.Arity.MaximumNumberOfValues)
                return $"{given.Option.Name} is given more than once";
            // "--telemetry ''" or a shell variable that expanded to nothing: no value of ours is empty (a path, a host, a
            // name, a list), and taking one silently ran with the default instead.
            if (given.Option.Arity.MinimumNumberOfValues > 0 && given.Tokens.FirstOrDefault(t => string.IsNullOrWhiteSpace(t.Value)) is { } empty)
                return $"{given.Option.Name} needs a value, got '{empty.Value}'";
        }

        // "heki simulate ''" read "heki simulate: : a scenario file must end in .yaml": every positional argument is a path.
        foreach (var argument in parse.CommandResult.Children.OfType<ArgumentResult>())
        {
            if (argument.Tokens.FirstOrDefault(t => string.IsNullOrWhiteSpace(t.Value)) is { } empty)
                return $"{argument.Argument.Name} is an empty path ('{empty.Value}'): name a file";
        }

        foreach (var word in parse.UnmatchedTokens)
        {
            if (LooksLikeOption(word))
                return $"unknown option '{OptionName(word)}'";
        }

        if (parse.UnmatchedTokens.Count > 0)
            return $"unexpected argument '{parse.UnmatchedTokens[0]}'";
        foreach (var argument in parse.CommandResult.Command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0))
        {
            if (parse.GetResult(argument) is not { Tokens.Count: > 0 })
                return $"{argument.Name} is missing";
        }

        // A value that is not a number for a numeric option: named in the user's terms, not as a .NET type.
        foreach (var error in parse.Errors)
        {
            if (error.SymbolResult is OptionResult { Tokens.Count: > 0 } given && NumberKind(given.Option.ValueType) is { } kind)
                return $"{given.Option.Name} must be {kind}, got '{given.Tokens[0].Value}'";
        }

        // Anything else in System.CommandLine's words, on one line.
        return parse.Errors.Count > 0 ? Input.HoconFile.OneLine(parse.Errors[0].Message) : null;
    }

    private static string? NumberKind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(uint) || t == typeof(ulong) => "a whole number from 0",
        var t when t == typeof(double) || t == typeof(float) || t == typeof(decimal) => "a number (e.g. 0.02)",
        _ => null,
    };

    /// <summary>
    /// Writes the first problem of <paramref name="parse"/> as <c>heki COMMAND: problem</c> and the <c>--help</c> hint to
    /// <paramref name="error"/>; false (nothing written) when the command line is fine.
    /// </summary>
    public static bool Report(ParseResult parse, TextWriter error)
    {
        if (Describe(parse) is not { } problem)
            return false;
        var command = parse.CommandResult.Command.Name;
        error.WriteLine($"heki {command}: {problem}");
        error.WriteLine($"Try 'heki {command} --help'.");
        return true;
    }

    private static bool LooksLikeOption(string word) => word.Length > 1 && word[0] == '-';

    private static string OptionName(string word) => word.Split('=', ':')[0];

    private static Option? OptionNamed(ParseResult parse, string name) =>
        parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));

    private static Option? FlagNamed(ParseResult parse, string name) =>
        parse.CommandResult.Command.Options.FirstOrDefault(o =>
            (o.ValueType == typeof(bool) || o.ValueType == typeof(bool?)) && (o.Name == name || o.Aliases.Contains(name)));

    private static int? IndexOf(IReadOnlyList<Token> tokens, Func<Token, bool> match)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (match(tokens[i]))
                return i;
        }

        return null;
    }
}
