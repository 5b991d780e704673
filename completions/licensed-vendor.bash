# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for licensed-vendor(1): verbs and sub-verbs, and each
# verb's options as its own --help lists them (so they never drift), with
# file names where an option takes a file.

_licensed_vendor() {
        local cur prev words cword
        _init_completion || return

        local verbs="keygen key issue inspect answer receipt check-proof check-request entitlement activations
                revoke upgrade release products token"

        case $prev in
        --db | --signing-key | --public-key | --device-key | --request | --spec | --output | --token-file | --proof)
                _filedir
                return ;;
        --type)
                COMPREPLY=($(compgen -W "perpetual subscription trial" -- "$cur"))
                return ;;
        --scope)
                COMPREPLY=($(compgen -W "read write" -- "$cur"))
                return ;;
        --state)
                COMPREPLY=($(compgen -W "active revoked" -- "$cur"))
                return ;;
        esac

        local i verb="" sub=""
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                -*) ;;
                *)
                        if [[ -z $verb ]]; then
                                verb=${words[i]}
                        elif [[ -z $sub && ($verb == key || $verb == entitlement || $verb == token) ]]; then
                                sub=${words[i]}
                        fi ;;
                esac
        done

        if [[ -z $verb ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "--help --version --json" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                fi
                return
        fi
        if [[ -z $sub && ($verb == key || $verb == entitlement || $verb == token) && $cur != -* ]]; then
                case $verb in
                key) COMPREPLY=($(compgen -W "new check" -- "$cur")) ;;
                entitlement) COMPREPLY=($(compgen -W "create list show" -- "$cur")) ;;
                token) COMPREPLY=($(compgen -W "create list revoke" -- "$cur")) ;;
                esac
                return
        fi
        if [[ $cur == -* ]]; then
                local help
                help=$(licensed-vendor $verb $sub --help 2>&1)
                COMPREPLY=($(compgen -W "$(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u) --help" -- "$cur"))
                return
        fi
        case $verb in
        inspect | check-proof | check-request) _filedir ;;
        esac
}

complete -F _licensed_vendor licensed-vendor
