using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>`zeropg completion bash`: sourced in a real bash, its function completes commands, flags and flag values as bash's completion would call it.</summary>
public sealed class CompletionTests
{
    [Fact]
    public async Task The_bash_script_completes_commands_flags_and_values()
    {
        // `zeropg` as an installed tool is (here the built CLI, through a shell function of that name).
        var script = $"zeropg() {{ dotnet '{Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll")}' \"$@\"; }}\n" + """
            set -e
            source <(zeropg completion bash)
            complete -p zeropg
            # What bash sets before it calls a completion function: the line, the cursor, the words and the current word's index.
            ask() {
                COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
                read -ra COMP_WORDS <<< "$COMP_LINE"
                [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _zeropg_complete
                echo "$1|${COMPREPLY[*]}"
            }
            ask "zeropg se"
            ask "zeropg serve --dur"
            ask "zeropg serve --durability "
            ask "zeropg backup "
            """;
        var result = await ExternalTool.RunAsync("bash", ["-c", script], timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.All);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("complete -o default -F _zeropg_complete zeropg", lines[0]);
        Assert.Equal([
            "zeropg se|serve",
            "zeropg serve --dur|--durability",
            "zeropg serve --durability |fsync process-crash",
            "zeropg backup |--help -? -h /? /h list restore verify",
        ], lines[1..]);
    }

    [Theory]
    [InlineData("zsh", "compdef _zeropg zeropg")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName zeropg")]
    public async Task Zsh_and_pwsh_scripts_ask_zeropg_through_the_suggest_directive(string shell, string registration)
    {
        // No zsh or pwsh on the CI machine: the script is checked for its registration and its call of the directive.
        var result = await ZeroPgCli.RunAsync(["completion", shell]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(registration, result.Stdout);
        Assert.Contains("[suggest:", result.Stdout);
    }
}
