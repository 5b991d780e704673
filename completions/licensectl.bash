# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for licensectl(1): verbs, options and their values, and
# the license ids and products licensed knows (asked with licensectl itself,
# so it works wherever licensectl does; nothing when the daemon is absent).

__licensectl_ids() {
        licensectl --no-pager --no-legend --no-ask-password list 2>/dev/null | while read -r id _; do
                printf '%s\n' "$id"
        done
}

__licensectl_products() {
        licensectl --no-pager --no-legend --no-ask-password products 2>/dev/null | while read -r id _; do
                printf '%s\n' "$id"
        done
}

_licensectl() {
        local cur prev words cword
        _init_completion -n = || return

        local verbs="status list show products activate trial install deactivate validate check export site borrow return"
        local global="--help --version --json --no-ask-password --no-pager --no-legend --bus-address="
        local -A verb_opts=(
                [list]="--product= --status= --sort= --columns= --grep="
                [activate]="--product= --offline --output= --qr="
                [trial]="--offline --output= --qr="
                [deactivate]="--offline --output= --qr="
                [validate]="--offline --output= --qr="
                [check]="--quiet --release-date="
                [export]="--output="
                [site]="--token= --fingerprint="
                [borrow]="--for="
        )
        local reasons="licensed grace not-installed not-activated expired feature-expired maintenance-expired
                validation-required revoked clock-rollback wrong-machine limit-reached no-lease site-unreachable
                floating-in-use"

        # The value of --opt=VALUE, or of "-o VALUE".
        local opt="" value=$cur
        if [[ $cur == --*=* ]]; then
                opt=${cur%%=*}
                value=${cur#*=}
        elif [[ $prev == -o ]]; then
                opt=--output
        fi
        case $opt in
        --product)
                COMPREPLY=($(compgen -W "$(__licensectl_products)" -- "$value"))
                return ;;
        --status)
                COMPREPLY=($(compgen -W "$reasons" -- "$value"))
                return ;;
        --sort)
                COMPREPLY=($(compgen -W "id expiry product status licensee" -- "$value"))
                return ;;
        --columns)
                # The last name of a comma-separated list (or after the leading +).
                local done_part="" last=$value
                if [[ $value == *,* ]]; then done_part=${value%,*},; last=${value##*,}; fi
                if [[ -z $done_part && $last == +* ]]; then done_part=+; last=${last#+}; fi
                COMPREPLY=($(compgen -P "$done_part" -W "id product licensee status expires type revision key issued
                        installed maintenance last-validation validate-by features usage" -- "$last"))
                compopt -o nospace
                return ;;
        --qr)
                COMPREPLY=($(compgen -W "auto always never" -- "$value"))
                return ;;
        --output)
                _filedir
                return ;;
        --bus-address | --release-date | --grep)
                return ;;
        esac

        # The verb and how many arguments it has so far.
        local i verb="" nargs=0
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                -o) ((i++)) ;;
                -*) ;;
                *) if [[ -z $verb ]]; then verb=${words[i]}; else ((nargs++)); fi ;;
                esac
        done

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$global ${verb_opts[$verb]}" -- "$cur"))
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
                return
        fi
        if [[ -z $verb ]]; then
                COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                return
        fi
        case $verb in
        show | deactivate | export | validate)
                ((nargs == 0)) && COMPREPLY=($(compgen -W "$(__licensectl_ids)" -- "$cur")) ;;
        check | trial | borrow | return)
                ((nargs == 0)) && COMPREPLY=($(compgen -W "$(__licensectl_products)" -- "$cur")) ;;
        site)
                ((nargs == 0)) && COMPREPLY=($(compgen -W "join leave status release" -- "$cur")) ;;
        install)
                ((nargs == 0)) && _filedir ;;
        esac
}

complete -F _licensectl licensectl
