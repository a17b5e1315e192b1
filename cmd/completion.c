/*
 * dv completion: the bash and zsh completion scripts, written from the dispatch table and the
 * option tables (the build runs it; cmake --install installs the scripts), and the lists they
 * are made from. A hidden command: what it prints is for programs.
 */
#include "cmd/common.h"

#include "core/base/error.h"

#include <string.h>

const cmd_syntax cmd_completion_syntax = {
    "usage: dv completion bash|zsh\n"
    "   or: dv completion commands\n"
    "   or: dv completion options <command> [<subcommand>]\n"
    "\n"
    "Print the completion script for bash or zsh, dv's commands, or the long\n"
    "options of a command (of all its subcommands, when it has them), one a line.\n",
    NULL,
    0,
    0,
    -1,
    NULL,
    CMD_COMPLETE_NONE,
};

/* The words for cmd_complete the scripts' _dv_complete knows. */
static const char *kind_name(cmd_complete kind)
{
    switch (kind) {
    case CMD_COMPLETE_FILES:
        return "files";
    case CMD_COMPLETE_TRACKED:
        return "tracked";
    case CMD_COMPLETE_REMOTES:
        return "remotes";
    case CMD_COMPLETE_COMMANDS:
        return "commands";
    default:
        return "none";
    }
}

/* How the completion function of a shell reads the command line. */
typedef struct shell {
    const char *words;   /* the array of words */
    const char *current; /* the index of the word being completed */
    int first;           /* the index of the word after dv */
    const char *prelude; /* the helpers _dv_words, _dv_complete and _dv_args */
    const char *finale;  /* what makes the shell use _dv */
    const char *split;   /* before a parameter's name, to split its value into words */
} shell;

static const shell bash_shell = {
    "COMP_WORDS",
    "COMP_CWORD",
    1,
    "# bash completion for dv. Written by `dv completion bash` from dv's command and option\n"
    "# tables when dv is built; do not edit.\n"
    "\n"
    "# _dv_reply CUR: the lines of stdin that start with CUR are the candidates.\n"
    "_dv_reply() {\n"
    "    local line\n"
    "    COMPREPLY=()\n"
    "    while IFS= read -r line; do\n"
    "        [[ $line == \"$1\"* ]] && COMPREPLY+=(\"$line\")\n"
    "    done\n"
    "    return 0\n"
    "}\n"
    "\n"
    "# _dv_words CUR WORD...: the words that start with CUR.\n"
    "_dv_words() {\n"
    "    local cur=$1\n"
    "    shift\n"
    "    _dv_reply \"$cur\" < <(printf '%s\\n' \"$@\")\n"
    "}\n"
    "\n"
    "# _dv_complete KIND CUR: the candidates of a kind of argument that start with CUR.\n"
    "_dv_complete() {\n"
    "    case $1 in\n"
    "    files | dirs)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        _dv_reply \"$2\" < <(compgen \"-${1:0:1}\" -- \"$2\") ;;\n"
    "    tracked)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        _dv_reply \"$2\" < <(git \"${_dv_dir[@]}\" -c core.quotePath=false ls-files \\\n"
    "            -- '*.dv' 2>/dev/null | sed 's/\\.dv$//') ;;\n"
    "    remotes)\n"
    "        _dv_reply \"$2\" < <(\"$_dv_bin\" \"${_dv_dir[@]}\" remote list 2>/dev/null) ;;\n"
    "    commands)\n"
    "        _dv_words \"$2\" $_dv_commands ;;\n"
    "    *)\n"
    "        COMPREPLY=() ;;\n"
    "    esac\n"
    "}\n",
    "complete -F _dv dv\n",
    "",
};

static const shell zsh_shell = {
    "words",
    "CURRENT",
    2,
    "#compdef dv\n"
    "# zsh completion for dv. Written by `dv completion zsh` from dv's command and option\n"
    "# tables when dv is built; do not edit.\n"
    "\n"
    "# _dv_words CUR WORD...: the words (compadd keeps those that match).\n"
    "_dv_words() {\n"
    "    shift\n"
    "    compadd -- \"$@\"\n"
    "}\n"
    "\n"
    "# _dv_complete KIND CUR: the candidates of a kind of argument.\n"
    "_dv_complete() {\n"
    "    local -a found\n"
    "    case $1 in\n"
    "    files) _files ;;\n"
    "    dirs) _files -/ ;;\n"
    "    tracked)\n"
    "        found=(${(f)\"$(git $_dv_dir -c core.quotePath=false ls-files -- '*.dv' \\\n"
    "            2>/dev/null | sed 's/\\.dv$//')\"})\n"
    "        compadd -a found ;;\n"
    "    remotes)\n"
    "        found=(${(f)\"$($_dv_bin $_dv_dir remote list 2>/dev/null)\"})\n"
    "        compadd -a found ;;\n"
    "    commands) compadd -- ${=_dv_commands} ;;\n"
    "    esac\n"
    "}\n",
    "_dv \"$@\"\n",
    "=",
};

/* The helper both shells share (a printf format: %1$s splits a parameter into words). */
static const char args_helper[] =
    "\n"
    "# _dv_args CUR PREV OPTIONS VALUES ARGS: the word after PREV, of a command whose long\n"
    "# options are OPTIONS, whose options with a value are VALUES (option=kind ...), and\n"
    "# whose arguments are of kind ARGS.\n"
    "_dv_args() {\n"
    "    local v\n"
    "    for v in $%1$s4; do\n"
    "        if [ \"$2\" = \"${v%%%%=*}\" ]; then\n"
    "            _dv_complete \"${v#*=}\" \"$1\"\n"
    "            return 0\n"
    "        fi\n"
    "    done\n"
    "    case $1 in\n"
    "    -*) _dv_words \"$1\" $%1$s3 ;;\n"
    "    *) _dv_complete \"$5\" \"$1\" ;;\n"
    "    esac\n"
    "}\n";

/* One case arm: name) _dv_args "$cur" "$prev" "<options>" "<values>" <kind> ;; */
static void put_command_arm(dv_buf *out, const char *indent, const cmd_command *command)
{
    const cmd_syntax *syntax = command->syntax;
    dv_buf_printf(out, "%s%s) _dv_args \"$cur\" \"$prev\" \"", indent, command->name);
    for (const cmd_option *o = syntax->options; o && o->long_name; o++)
        dv_buf_printf(out, "--%s ", o->long_name);
    /* Parsed options include --help; a command that takes its arguments as they are has none. */
    if (!(command->flags & CMD_RAW_ARGS))
        dv_buf_puts(out, "--help");
    dv_buf_puts(out, "\" \"");
    const char *sep = "";
    for (const cmd_option *o = syntax->options; o && o->long_name; o++) {
        if (!o->value_name || o->bare_value) /* an optional value never is the next word */
            continue;
        dv_buf_printf(out, "%s--%s=%s", sep, o->long_name, kind_name(o->complete));
        sep = " ";
        if (o->short_name)
            dv_buf_printf(out, " -%c=%s", o->short_name, kind_name(o->complete));
    }
    dv_buf_printf(out, "\" %s ;;\n", kind_name(syntax->args));
}

/* The arm of a command with subcommands: the first word after it that is not an option. */
static void put_subcommand_arm(dv_buf *out, const shell *sh, const cmd_command *command)
{
    dv_buf_printf(out,
                  "    %s)\n"
                  "        j=$((i + 1))\n"
                  "        while [ \"$j\" -lt \"$%s\" ]; do\n"
                  "            case ${%s[j]} in\n"
                  "            -*) ;;\n"
                  "            *) sub=${%s[j]}; break ;;\n"
                  "            esac\n"
                  "            j=$((j + 1))\n"
                  "        done\n"
                  "        case $sub in\n",
                  command->name, sh->current, sh->words, sh->words);
    for (const cmd_command *sub = command->subcommands; sub->name; sub++)
        if (sub->name[0] != '-')
            put_command_arm(out, "        ", sub);
    dv_buf_puts(out, "        *) _dv_words \"$cur\"");
    for (const cmd_command *sub = command->subcommands; sub->name; sub++)
        if (!(sub->flags & CMD_HIDDEN))
            dv_buf_printf(out, " %s", sub->name);
    dv_buf_puts(out, " ;;\n        esac ;;\n");
}

static int put_script(dv_buf *out, const shell *sh)
{
    dv_buf_puts(out, sh->prelude);
    dv_buf_printf(out, args_helper, sh->split);
    dv_buf_puts(out, "\n_dv_commands='");
    const char *sep = "";
    for (const cmd_command *c = cmd_commands; c->name; c++)
        if (!(c->flags & CMD_HIDDEN)) {
            dv_buf_printf(out, "%s%s", sep, c->name);
            sep = " ";
        }
    /* main's own options, which main parses before the command's name. */
    dv_buf_printf(out,
                  "'\n"
                  "\n"
                  "_dv() {\n"
                  "    local cur=${%s[%s]} prev=${%s[%s - 1]} _dv_bin=${%s[%d]}\n"
                  "    local cmd='' sub='' i=%d j\n"
                  "    local -a _dv_dir\n"
                  "    _dv_dir=()\n"
                  "    while [ \"$i\" -lt \"$%s\" ]; do\n"
                  "        case ${%s[i]} in\n"
                  "        -C) _dv_dir+=(-C \"${%s[i + 1]}\"); i=$((i + 1)) ;;\n"
                  "        -*) ;;\n"
                  "        *) cmd=${%s[i]}; break ;;\n"
                  "        esac\n"
                  "        i=$((i + 1))\n"
                  "    done\n"
                  "    if [ -z \"$cmd\" ]; then\n"
                  "        case $prev:$cur in\n"
                  "        -C:*) _dv_complete dirs \"$cur\" ;;\n"
                  "        *:-*) _dv_words \"$cur\" -C --help --version ;;\n"
                  "        *) _dv_complete commands \"$cur\" ;;\n"
                  "        esac\n"
                  "        return 0\n"
                  "    fi\n"
                  "    case $cmd in\n",
                  sh->words, sh->current, sh->words, sh->current, sh->words, sh->first - 1,
                  sh->first, sh->current, sh->words, sh->words, sh->words);
    for (const cmd_command *c = cmd_commands; c->name; c++) {
        if (c->flags & CMD_HIDDEN)
            continue;
        if (c->subcommands)
            put_subcommand_arm(out, sh, c);
        else
            put_command_arm(out, "    ", c);
    }
    dv_buf_puts(out, "    esac\n"
                     "    return 0\n"
                     "}\n"
                     "\n");
    dv_buf_puts(out, sh->finale);
    if (dv_buf_oom(out))
        return cmd_fail(dv_error_set(DV_ENOMEM, "out of memory writing the completion script"));
    fputs(out->ptr, stdout);
    return 0;
}

static void put_long_options(const cmd_syntax *syntax)
{
    for (const cmd_option *o = syntax->options; o && o->long_name; o++)
        printf("--%s\n", o->long_name);
}

/* dv completion options <command> [<subcommand>]: --long, one a line. */
static int put_options(cmd_context *ctx)
{
    const cmd_command *command = cmd_find(cmd_commands, ctx->args[1]);
    if (!command)
        return cmd_usage_error(NULL, "'%s' is not a dv command (see dv help)", ctx->args[1]);
    if (ctx->n_args > 2) {
        const cmd_command *sub =
            command->subcommands ? cmd_find(command->subcommands, ctx->args[2]) : NULL;
        if (!sub)
            return cmd_usage_error(NULL, "'%s' is not a subcommand of dv %s", ctx->args[2],
                                   command->name);
        put_long_options(sub->syntax);
    } else if (command->subcommands) {
        for (const cmd_command *sub = command->subcommands; sub->name; sub++)
            if (!(sub->flags & CMD_HIDDEN))
                put_long_options(sub->syntax);
    } else {
        put_long_options(command->syntax);
    }
    return 0;
}

int cmd_completion(cmd_context *ctx)
{
    dv_buf out = DV_BUF_INIT;
    const char *what = ctx->n_args > 0 ? ctx->args[0] : "";
    int rc;
    if (!strcmp(what, "bash") && ctx->n_args == 1)
        rc = put_script(&out, &bash_shell);
    else if (!strcmp(what, "zsh") && ctx->n_args == 1)
        rc = put_script(&out, &zsh_shell);
    else if (!strcmp(what, "commands") && ctx->n_args == 1) {
        for (const cmd_command *c = cmd_commands; c->name; c++)
            if (!(c->flags & CMD_HIDDEN))
                printf("%s\n", c->name);
        rc = 0;
    } else if (!strcmp(what, "options") && (ctx->n_args == 2 || ctx->n_args == 3))
        rc = put_options(ctx);
    else if (!strcmp(what, "--help") || !strcmp(what, "-h"))
        rc = cmd_print_usage(ctx->command);
    else
        rc = cmd_usage_error(ctx->command, "dv completion needs bash, zsh, commands or options");
    dv_buf_release(&out);
    return rc;
}
