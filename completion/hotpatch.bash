# bash completion for hotpatch(8)                     -*- shell-script -*-
# SPDX-License-Identifier: MIT

# The ids of the bundles in the store (under --root or $HOTPATCH_ROOT when
# given), read from the file names so that completing needs no root.
_hotpatch_ids()
{
    local root=${_hotpatch_root:-${HOTPATCH_ROOT:-/}} f
    for f in "${root%/}"/var/lib/hotpatch/bundles/*.hpb; do
        [[ -e $f ]] || continue
        f=${f##*/}
        printf '%s\n' "${f%.hpb}"
    done
}

_hotpatch_pids()
{
    local p
    for p in /proc/[0-9]*; do
        printf '%s\n' "${p#/proc/}"
    done
}

_hotpatch()
{
    local cur prev words cword
    _init_completion || return

    local commands="build info apply revert status keygen sign install remove
        enable disable commit rollback package catch-up audit doctor"
    local _hotpatch_root= cmd= i

    # The global options come before the command.
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --root)
                _hotpatch_root=${words[i + 1]}
                ((i++))
                ;;
            -*) ;;
            *)
                cmd=${words[i]}
                break
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        case $prev in
            --root)
                _filedir -d
                return
                ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--root --help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    case $prev in
        -p | --pid)
            COMPREPLY=($(compgen -W "$(_hotpatch_pids)" -- "$cur"))
            return
            ;;
        --target | --debuginfo | --built-file | -k | --attach)
            _filedir
            return
            ;;
        --source | -I | --root | --sysroot | --cache | --build-root | --sources)
            _filedir -d
            return
            ;;
        --diff)
            _filedir '@(patch|diff)'
            return
            ;;
        -o | --output)
            [[ $cmd == package ]] && _filedir -d || _filedir
            return
            ;;
        --timeout | --stop-budget | -j | --jobs | --cc | -D | --cflag | --name | \
            --description | --build | --upgrade-to | --build-profiles | --maintainer | \
            --subscribe)
            return
            ;;
    esac

    local opts=
    case $cmd in
        build)
            opts="--target -o --output --source --diff --build --built-file
                --explain --no-file-update --debuginfo --cc -I -D --cflag --name
                --description --keep-tmp --upgrade-to --sysroot --cache
                --build-root --sources --build-profiles --help" ;;
        apply)
            opts="--pid --all --timeout --stop-budget --jobs --no-boost --json
                --verbose --replace --insecure --help" ;;
        revert)
            opts="--pid --all --timeout --stop-budget --jobs --no-boost --json
                --verbose --help" ;;
        status) opts="--pid --json --help" ;;
        info) opts="--json --help" ;;
        keygen) opts="-k --force --help" ;;
        sign) opts="-k -o --attach --detach --help" ;;
        install) opts="--insecure --help" ;;
        commit) opts="--staged --insecure --help" ;;
        rollback) opts="--no-apply --help" ;;
        package) opts="-o --output --name --maintainer --subscribe --help" ;;
        catch-up) opts="--list --json --timeout --needrestart --help" ;;
        audit)
            [[ $cword -eq $((i + 1)) ]] && COMPREPLY=($(compgen -W verify -- "$cur"))
            return
            ;;
        *) opts="--help" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    # Positional arguments: a bundle file, a stored id, or both.
    case $cmd in
        apply | revert | enable | disable)
            COMPREPLY=($(compgen -W "$(_hotpatch_ids)" -- "$cur"))
            _filedir hpb
            ;;
        remove | commit | rollback)
            COMPREPLY=($(compgen -W "$(_hotpatch_ids)" -- "$cur"))
            ;;
        info | sign | install | package)
            _filedir hpb
            ;;
        build)
            _filedir c
            ;;
    esac
} &&
    complete -F _hotpatch hotpatch

# ex: filetype=sh
