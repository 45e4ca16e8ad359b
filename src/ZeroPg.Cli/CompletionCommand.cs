using System.CommandLine;

namespace ZeroPg.Cli;

/// <summary>
/// `zeropg completion bash|zsh|pwsh`: a script that makes the shell complete zeropg's commands, flags and flag values.
/// The script asks zeropg itself, through System.CommandLine's suggest directive (`zeropg "[suggest:POSITION]" "LINE"`,
/// what the dotnet-suggest tool calls), so it needs no other tool and always matches the installed version.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or pwsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "pwsh");
        var command = new Command("completion", """
            Print a shell completion script for zeropg.
              bash:  eval "$(zeropg completion bash)"        (or save it as ~/.local/share/bash-completion/completions/zeropg)
              zsh:   eval "$(zeropg completion zsh)"         (after compinit)
              pwsh:  zeropg completion pwsh | Out-String | Invoke-Expression   (e.g. in $PROFILE)
            """) { shell };
        command.SetAction(parse =>
        {
            Console.Out.Write(Script(parse.GetValue(shell)!));
            return 0;
        });
        return command;
    }

    public static string Script(string shell) => shell switch
    {
        "bash" => """
            # zeropg completion for bash: eval "$(zeropg completion bash)"
            _zeropg_complete() {
                local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
                local candidates
                candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) || return 0
                COMPREPLY=($(compgen -W "${candidates}" -- "${cur}"))
            }
            complete -o default -F _zeropg_complete zeropg

            """,
        "zsh" => """
            # zeropg completion for zsh: eval "$(zeropg completion zsh)" (after compinit)
            _zeropg() {
                local -a candidates
                candidates=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
                compadd -a candidates
            }
            compdef _zeropg zeropg

            """,
        _ => """
            # zeropg completion for PowerShell: zeropg completion pwsh | Out-String | Invoke-Expression
            Register-ArgumentCompleter -Native -CommandName zeropg -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                $line = $commandAst.Extent.ToString()
                $position = $cursorPosition - $commandAst.Extent.StartOffset
                zeropg "[suggest:$position]" "$line" 2>$null | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
    };
}
